/* Frontdesk widget glue, inside the iframe: the visitor token, the handshake with the host page,
   Enter to send, and local times. Everything else is htmx. */
(function () {
  "use strict";

  var keyMeta = document.querySelector('meta[name="frontdesk-widget"]');
  if (!keyMeta) return; // unknown widget: the page shows its notice and does nothing else
  var storageKey = "frontdesk:" + keyMeta.content;
  var memory = {}; // used when the browser refuses localStorage

  function loadState() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey)) || {};
    } catch (error) {
      return memory;
    }
  }

  function saveState(state) {
    memory = state;
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(state));
    } catch (error) {
      /* storage blocked: the token lives as long as this page */
    }
  }

  function newToken() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  var state = loadState();
  if (!state.token) {
    state = { token: newToken() };
    saveState(state);
  }

  // The token travels as a header on every htmx request: third-party cookies are not relied on.
  document.addEventListener("htmx:config:request", function (event) {
    event.detail.ctx.request.headers["X-Frontdesk-Token"] = state.token;
  });

  // Code type: the host page hands the user's data over by postMessage, never in a URL.
  function identify(user) {
    var form = document.getElementById("identify");
    if (!form || !user || typeof user !== "object" || user.id === undefined || user.id === null) return;
    var userId = String(user.id);
    if (state.userId && state.userId !== userId) {
      state = { token: newToken() }; // another person signed in on the site: start fresh
    }
    state.userId = userId;
    saveState(state);
    form.elements.custom_user_data.value = JSON.stringify(user);
    htmx.trigger(form, "frontdesk:identify");
  }

  function forget() {
    state = { token: newToken() };
    saveState(state);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || typeof event.data !== "object") return;
    if (event.data.type === "frontdesk:init") identify(event.data.custom_user_data);
    if (event.data.type === "frontdesk:logout") {
      forget();
      tellHost("frontdesk:forgotten");
    }
  });

  function tellHost(type) {
    if (window.parent !== window) window.parent.postMessage({ type: type }, "*");
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-minimize]")) tellHost("frontdesk:close");
  });

  // Enter sends, Shift+Enter breaks the line. On a phone's keyboard Enter stays a line break (the
  // send button is right there), and an input method's Enter is left alone.
  var touchKeyboard = window.matchMedia("(pointer: coarse)").matches;
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || touchKeyboard) return;
    if (!field.matches || !field.matches("textarea[data-enter-sends]")) return;
    event.preventDefault();
    field.form.requestSubmit();
  });

  // A message that could not be sent stays in the box, with the same id, ready to resend.
  function sendError(event, visible) {
    var form = event.target.closest && event.target.closest("#composer");
    var notice = form && form.querySelector("[data-send-error]");
    if (notice) notice.hidden = !visible;
  }
  var keepTyping = false; // put the cursor back in the new message box after a send
  document.addEventListener("htmx:error", function (event) { sendError(event, true); });
  document.addEventListener("htmx:response:error", function (event) {
    if (event.detail.ctx.response && event.detail.ctx.response.status >= 500) sendError(event, true);
  });
  document.addEventListener("htmx:before:request", function (event) {
    sendError(event, false);
    var active = document.activeElement;
    keepTyping = Boolean(active && active.matches("textarea[data-enter-sends]"));
  });

  function showLocalTimes(root) {
    var format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      hour: "numeric",
      minute: "2-digit",
    });
    root.querySelectorAll("time[datetime]").forEach(function (time) {
      var date = new Date(time.getAttribute("datetime"));
      if (!isNaN(date)) time.textContent = format.format(date);
    });
  }

  document.addEventListener("htmx:after:swap", function () {
    showLocalTimes(document);
    var box = document.querySelector("textarea[data-enter-sends]");
    if (keepTyping && box) box.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", function () {
    showLocalTimes(document);
    tellHost("frontdesk:ready");
  });
})();
