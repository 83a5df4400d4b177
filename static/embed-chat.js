/* Frontdesk chat, on the host page: the part of the loader (embed.js) fetched when the visitor
   opens the chat or the page logs its user out, or at once for a visitor who chats (to show the
   replies they have not read). It opens and closes the chat iframe, hands it the
   page's user data by postMessage (never in a URL), keeps the visitor token in the page's storage
   when the iframe may not keep its own, and ends a session on Frontdesk("logout"). Served under a
   hashed name, cached for good: embed.js names the version it goes with. */
(function () {
  "use strict";
  var fd = window.Frontdesk && window.Frontdesk._;
  if (!fd || fd.chat) return;

  var origin = fd.origin;
  var frame = null;
  var frameReady = false;
  var isOpen = false;

  var STYLE =
    ".launcher .close{display:none}" +
    ".launcher[aria-expanded=true] .open,.launcher[aria-expanded=true] .label{display:none}" +
    ".launcher[aria-expanded=true] .close{display:block}" +
    ".launcher[aria-expanded=true]{padding:0;width:52px;justify-content:center}" +
    "iframe{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:380px;" +
    "height:min(640px,calc(100vh - 108px));border:0;border-radius:16px;background:#fff;" +
    "box-shadow:0 12px 40px rgba(15,23,42,.25);color-scheme:normal}" +
    "iframe[hidden]{display:none}" +
    "@media (max-width:480px){iframe{inset:0;width:100%;height:100%;border-radius:0}" +
    ".launcher[aria-expanded=true]{display:none}}";
  var CLOSE_ICON =
    '<svg class="close" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>';

  // The iframe's address comes from where the loader was loaded, which is right behind any
  // proxy; only the language goes in it, never anything about the user.
  function frameUrl() {
    var url = new URL(origin + "/widget/" + encodeURIComponent(fd.key));
    if (fd.language) url.searchParams.set("lang", fd.language);
    return url.href;
  }

  function setExpanded(expanded) {
    isOpen = expanded;
    fd.launcher.setAttribute("aria-expanded", String(expanded));
    fd.launcher.setAttribute("aria-label", expanded ? fd.config.close_label : fd.config.launcher_label);
  }

  function open() {
    fd.draw();
    if (!fd.host) return;
    if (!frame) mountFrame();
    frame.hidden = false;
    setExpanded(true);
    focusFrame();
  }

  // The visitor who opened the chat lands in it (widget.js picks the field): now, or once the
  // iframe says it is ready.
  function focusFrame() {
    if (!frame || frame.hidden) return;
    frame.focus();
    if (frameReady) frame.contentWindow.postMessage({ type: "frontdesk:focus" }, origin);
  }

  function mountFrame() {
    var style = document.createElement("style");
    style.textContent = STYLE + sideStyle();
    frame = document.createElement("iframe");
    frame.title = fd.config.launcher_label;
    frame.src = frameUrl(); // no user data here: it goes by postMessage
    frame.setAttribute("allow", "clipboard-write");
    fd.host.shadowRoot.append(style, frame);
    fd.launcher.insertAdjacentHTML("afterbegin", CLOSE_ICON);
  }

  // A launcher on the left (General settings) opens the chat on the left too (not on phones,
  // where the chat fills the screen), and shows its reply preview there.
  function sideStyle() {
    return fd.config.left
      ? ".bubble{left:20px;right:auto}@media (min-width:481px){iframe{left:20px;right:auto}}"
      : "";
  }

  function close() {
    if (!frame) return;
    frame.hidden = true;
    setExpanded(false);
    fd.launcher.focus();
  }

  function forget() { // the loader removed the launcher, and the iframe with it
    frame = null;
    frameReady = isOpen = false;
  }

  var tokenKey = "frontdesk:" + fd.key;
  var needsToken = false; // the iframe may not keep storage: then this page keeps its token

  function hostToken() {
    try {
      var token = localStorage.getItem(tokenKey);
      if (!token) {
        var bytes = new Uint8Array(24);
        crypto.getRandomValues(bytes);
        token = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
        localStorage.setItem(tokenKey, token);
      }
      return token;
    } catch (error) {
      return null;
    }
  }

  // Logging out ends the session where it lives, in the iframe's storage and on the server: a
  // hidden page of the widget's origin does it, whether or not the chat was open.
  var courier = null;
  function sendCourier() {
    if (courier) courier.remove();
    courier = document.createElement("iframe");
    courier.hidden = true;
    courier.setAttribute("aria-hidden", "true");
    var url = new URL(frameUrl());
    url.searchParams.set("logout", "1");
    courier.src = url.href;
    document.body.appendChild(courier);
  }

  function sendInit() {
    if (frame && frameReady) {
      var message = {
        type: "frontdesk:init",
        page_url: location.href,
        custom_user_data: fd.user,
        identity_token: fd.token,
      };
      if (needsToken) message.token = hostToken();
      frame.contentWindow.postMessage(message, origin);
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data) return;
    if (courier && event.source === courier.contentWindow) {
      if (event.data.type === "frontdesk:forgotten") {
        courier.remove();
        courier = null;
      }
      return;
    }
    if (!frame || event.source !== frame.contentWindow) return;
    var type = event.data.type;
    if (type === "frontdesk:ready") {
      frameReady = true;
      needsToken = Boolean(event.data.needs_token);
      sendInit();
      focusFrame();
    } else if (type === "frontdesk:close") {
      close();
    }
  });

  // Replies that arrive while the chat is closed ---------------------------------------------
  // Once the visitor chats, this page's storage keeps a flag (nothing personal) and the loader
  // fetches this script on every page: the iframe, mounted hidden, reports how many agent replies
  // the visitor has not seen and the newest one's first words; the launcher shows the count, a
  // bubble the words. Seen means shown in the open chat, so both outlast a reload.
  var chattingKey = "frontdesk:" + fd.key + ":chatting";
  var dismissedKey = chattingKey.replace(/chatting$/, "dismissed");
  var notice = { count: 0, preview: "", known: false, watched: null, audio: null, flashing: null };
  var NOTICE_STYLE =
    ".badge{position:absolute;top:-6px;right:-6px;min-width:22px;height:22px;padding:0 6px;" +
    "box-sizing:border-box;border-radius:11px;background:#d92d20;color:#fff;border:2px solid #fff;" +
    "font:700 12px/18px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;text-align:center}" +
    ".badge::after{content:attr(data-count)}" + // not text: the launcher's name says the count
    ".launcher[aria-expanded=true] .badge,.badge[hidden],.bubble[hidden]{display:none}" +
    ".bubble{position:fixed;right:20px;bottom:84px;z-index:2147483000;display:flex;" +
    "align-items:flex-start;max-width:min(300px,calc(100vw - 40px));background:#fff;color:#1c2333;" +
    "border-radius:14px;box-shadow:0 8px 28px rgba(15,23,42,.22);" +
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".bubble button{font:inherit;color:inherit;background:none;border:0;cursor:pointer}" +
    ".bubble .preview{flex:1;min-width:0;padding:12px 4px 12px 14px;text-align:start;" +
    "overflow-wrap:anywhere}" +
    ".bubble strong{display:block;margin-bottom:2px;font-size:13px;color:#2d5be3}" +
    ".bubble .dismiss{flex:none;width:32px;height:32px;margin:4px;border-radius:8px;" +
    "font-size:20px;line-height:1;color:#667085}" +
    ".bubble .dismiss:hover{background:#f2f4f7}" +
    ".bubble button:focus-visible{outline:3px solid #9db5ff;outline-offset:-3px}";

  function watch() { // the loader saw the flag: mount the chat hidden, to hear its count
    if (!document.body) return document.addEventListener("DOMContentLoaded", watch);
    fd.draw();
    if (!fd.host || frame) return;
    mountFrame();
    frame.hidden = true;
    frame.setAttribute("aria-hidden", "true");
  }

  function frameShown() { // the chat was opened or closed: the iframe reads only while shown
    if (!frame) return;
    if (frame.hidden) frame.setAttribute("aria-hidden", "true");
    else frame.removeAttribute("aria-hidden");
    if (frameReady) {
      frame.contentWindow.postMessage({ type: "frontdesk:visible", visible: !frame.hidden }, origin);
    }
    showNotice();
  }

  function followFrame() { // on the iframe's handshake: tell it, now and later, if it is shown
    if (notice.watched !== frame) {
      notice.watched = frame;
      new MutationObserver(frameShown).observe(frame, { attributes: true, attributeFilter: ["hidden"] });
    }
    frameShown();
  }

  function takeUnread(count, preview) {
    count = Math.min(Math.max(Math.floor(Number(count)) || 0, 0), 99);
    preview = typeof preview === "string" ? preview.slice(0, 200) : "";
    try { localStorage.setItem(chattingKey, "1"); } catch (error) { /* no flag: no watching */ }
    var arrived = notice.known && count > notice.count;
    notice.known = true;
    notice.count = count;
    notice.preview = preview;
    if (!count) forgetDismissal();
    if (arrived) alertVisitor();
    showNotice();
  }

  function noticeParts() { // the badge and the bubble, made once per launcher
    var root = fd.host.shadowRoot;
    var badge = root.querySelector(".badge");
    if (!badge) {
      var style = document.createElement("style");
      style.textContent = NOTICE_STYLE + sideStyle();
      badge = document.createElement("span");
      badge.className = "badge";
      badge.setAttribute("aria-hidden", "true");
      fd.launcher.appendChild(badge);
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.innerHTML = '<button type="button" class="preview"><strong></strong><span></span></button>' +
        '<button type="button" class="dismiss"><span aria-hidden="true">&times;</span></button>';
      bubble.firstChild.addEventListener("click", open);
      bubble.lastChild.addEventListener("click", dismiss);
      bubble.lastChild.setAttribute("aria-label", fd.config.dismiss);
      root.append(style, bubble);
    }
    return { badge: badge, bubble: root.querySelector(".bubble") };
  }

  function showNotice() {
    if (!fd.host || !fd.launcher || !notice.known) return;
    var parts = noticeParts(), count = notice.count, config = fd.config;
    parts.badge.setAttribute("data-count", String(count));
    parts.badge.hidden = count === 0;
    if (!isOpen) {
      var name = count === 1 ? config.unread_one : config.unread_many.replace("{count}", count);
      fd.launcher.setAttribute("aria-label", count ? name : config.launcher_label);
    }
    parts.bubble.querySelector("strong").textContent = config.new_message;
    parts.bubble.querySelector("span").textContent = notice.preview;
    parts.bubble.hidden = isOpen || !count || !notice.preview || dismissedCount() === count;
  }

  function dismiss() {
    try { sessionStorage.setItem(dismissedKey, String(notice.count)); } catch (error) { /* none */ }
    notice.dismissedInMemory = notice.count;
    showNotice();
    fd.launcher.focus();
  }

  function forgetDismissal() { // all read: the next reply shows its bubble again
    notice.dismissedInMemory = 0;
    try { sessionStorage.removeItem(dismissedKey); } catch (error) { /* none kept */ }
  }

  function dismissedCount() {
    try { return Number(sessionStorage.getItem(dismissedKey)); } catch (error) {
      return notice.dismissedInMemory;
    }
  }

  function alertVisitor() { // a reply arrived while this page was open
    if (fd.config.notify_sound) playTone();
    if (fd.config.notify_title && document.hidden) flashTitle();
  }

  function playTone() { // browsers let a page sound only once its visitor has used it
    var Context = window.AudioContext || window.webkitAudioContext;
    var used = navigator.userActivation ? navigator.userActivation.hasBeenActive : notice.used;
    if (!Context || !used) return;
    try {
      var audio = notice.audio || (notice.audio = new Context());
      var now = audio.currentTime, tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.setValueAtTime(880, now);
      tone.frequency.setValueAtTime(660, now + 0.12);
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.15, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
      tone.connect(gain).connect(audio.destination);
      tone.start(now);
      tone.stop(now + 0.32);
    } catch (error) { /* no sound, then */ }
  }

  function flashTitle() { // until the visitor comes back to this tab
    if (notice.flashing) return;
    var original = document.title, flashed = false;
    notice.flashing = setInterval(function () {
      flashed = !flashed;
      document.title = flashed ? "(" + notice.count + ") " + fd.config.new_message : original;
    }, 1000);
    document.addEventListener("visibilitychange", function back() {
      if (document.hidden) return;
      clearInterval(notice.flashing);
      notice.flashing = null;
      document.title = original;
      document.removeEventListener("visibilitychange", back);
    });
  }

  function forgetUnread() { // Frontdesk("logout"): the next visitor of this browser starts clean
    try { localStorage.removeItem(chattingKey); } catch (error) { /* none kept */ }
    notice.count = 0;
    notice.known = false;
    sendCourier();
  }

  ["pointerdown", "keydown"].forEach(function (type) { // for browsers without userActivation
    window.addEventListener(type, function () { notice.used = true; }, { capture: true, once: true });
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "frontdesk:ready") followFrame();
    else if (data.type === "frontdesk:unread") takeUnread(data.unread, data.preview);
  });

  fd.ready({
    open: open,
    close: close,
    toggle: function () { isOpen ? close() : open(); },
    update: sendInit,
    logout: forgetUnread,
    forget: forget,
    watch: watch,
  });
})();
