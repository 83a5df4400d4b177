/* Frontdesk unread notice, on the host page: fetched by embed-chat.js with the iframe's first
   report of a visitor who chats. The launcher shows how many agent replies the visitor has not
   seen (a badge; its name says the count), a bubble the newest one's first words, until the chat
   shows them; a reply that arrives while the page is open may sound and flash the tab's title.
   Served under a hashed name, cached for good: embed-chat.js names the version it goes with. */
(function () {
  "use strict";
  var fd = window.Frontdesk && window.Frontdesk._;
  var chat = fd && fd.chat;
  if (!chat || !chat.noticeReady) return;

  var dismissedKey = "frontdesk:" + fd.key + ":dismissed";
  var notice = { count: 0, preview: "", known: false, audio: null, flashing: null };
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

  function takeUnread(count, preview) {
    count = Math.min(Math.max(Math.floor(Number(count)) || 0, 0), 99);
    preview = typeof preview === "string" ? preview.slice(0, 200) : "";
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
      style.textContent = NOTICE_STYLE + chat.sideStyle();
      badge = document.createElement("span");
      badge.className = "badge";
      badge.setAttribute("aria-hidden", "true");
      fd.launcher.appendChild(badge);
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.innerHTML = '<button type="button" class="preview"><strong></strong><span></span></button>' +
        '<button type="button" class="dismiss"><span aria-hidden="true">&times;</span></button>';
      bubble.firstChild.addEventListener("click", chat.open);
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
    if (!chat.isOpen()) {
      var name = count === 1 ? config.unread_one : config.unread_many.replace("{count}", count);
      fd.launcher.setAttribute("aria-label", count ? name : config.launcher_label);
    }
    parts.bubble.querySelector("strong").textContent = config.new_message;
    parts.bubble.querySelector("span").textContent = notice.preview;
    parts.bubble.hidden = chat.isOpen() || !count || !notice.preview || dismissedCount() === count;
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

  function reset() { // Frontdesk("logout"): the next visitor of this browser starts clean
    notice.count = 0;
    notice.known = false;
  }

  ["pointerdown", "keydown"].forEach(function (type) { // for browsers without userActivation
    window.addEventListener(type, function () { notice.used = true; }, { capture: true, once: true });
  });

  chat.noticeReady({ take: takeUnread, show: showNotice, reset: reset });
})();
