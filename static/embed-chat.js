/* Frontdesk chat, on the host page: the part of the loader (embed.js) fetched when the visitor
   opens the chat or the page logs its user out, or at once for a visitor who chats (to hear of the
   replies they have not read; embed-unread.js shows them). It opens and closes the chat iframe, hands it the
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
  // the visitor has not seen and the newest one's first words. Seen means shown in the open chat,
  // so the iframe hears when it is shown. The launcher's count and bubble are embed-unread.js,
  // fetched with the first report: a visitor who has not chatted never downloads them.
  var chattingKey = "frontdesk:" + fd.key + ":chatting";
  var watched = null, notice = null, reports = [], noticeLoading = false;

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
    if (notice) notice.show();
  }

  function followFrame() { // on the iframe's handshake: tell it, now and later, if it is shown
    if (watched !== frame) {
      watched = frame;
      new MutationObserver(frameShown).observe(frame, { attributes: true, attributeFilter: ["hidden"] });
    }
    frameShown();
  }

  function takeUnread(count, preview) { // a report from the iframe: on to the notice
    try { localStorage.setItem(chattingKey, "1"); } catch (error) { /* no flag: no watching */ }
    if (notice) return notice.take(count, preview);
    reports.push([count, preview]);
    if (noticeLoading) return;
    noticeLoading = true;
    var script = document.createElement("script");
    script.src = origin + "/static/embed-unread.js"; // the build names the hashed file
    script.onerror = function () { noticeLoading = false; };
    document.head.appendChild(script);
  }

  function noticeReady(arrived) { // embed-unread.js has arrived: the reports it missed
    notice = arrived;
    reports.splice(0).forEach(function (report) { notice.take(report[0], report[1]); });
  }

  function forgetUnread() { // Frontdesk("logout"): the next visitor of this browser starts clean
    try { localStorage.removeItem(chattingKey); } catch (error) { /* none kept */ }
    reports = [];
    if (notice) notice.reset();
    sendCourier();
  }

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
    // for embed-unread.js
    isOpen: function () { return isOpen; },
    sideStyle: sideStyle,
    noticeReady: noticeReady,
  });
})();
