/* Frontdesk widget glue, inside the iframe: the visitor token and the handshake with the host
   page. Everything else is htmx (and the shared enter-sends.js and local-times.js), which comes
   with this file in one bundle (assets.BUNDLES); the stream's extension comes when needed. */
(function () {
  "use strict";

  var keyMeta = document.querySelector('meta[name="frontdesk-widget"]');
  if (!keyMeta) return; // unknown widget: the page shows its notice and does nothing else
  var storageKey = "frontdesk:" + keyMeta.content;

  // Browsers that block third-party storage (Chrome with third-party cookies blocked, say) refuse
  // the iframe its localStorage. Then the host page keeps the token in its own, first-party
  // storage and hands it over with the handshake; the pane waits for it.
  var storageWorks = (function () {
    try {
      window.localStorage.setItem(storageKey + ":probe", "1");
      window.localStorage.removeItem(storageKey + ":probe");
      return true;
    } catch (error) {
      return false;
    }
  })();
  var embedded = window.parent !== window;
  var memory = {};

  function loadState() {
    if (!storageWorks) return memory;
    try {
      return JSON.parse(window.localStorage.getItem(storageKey)) || {};
    } catch (error) {
      return {};
    }
  }

  function saveState(state) {
    memory = state;
    if (storageWorks) window.localStorage.setItem(storageKey, JSON.stringify(state));
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

  var started = false;
  function start() {
    if (started) return;
    started = true;
    var pane = document.getElementById("pane");
    if (pane) htmx.trigger(pane, "frontdesk:start");
  }

  // The token travels as a header on every htmx request: third-party cookies are not relied on.
  var hostPage = ""; // the host page's address, from the loader: the agent sees where a chat began
  var language = new URLSearchParams(window.location.search).get("lang") || "";
  document.addEventListener("htmx:config:request", function (event) {
    var headers = event.detail.ctx.request.headers;
    headers["X-Frontdesk-Token"] = state.token;
    if (hostPage) headers["X-Frontdesk-Page"] = hostPage;
    if (language) headers["X-Frontdesk-Language"] = language; // frontdeskSettings.language
  });

  // Code type: the host page hands the user's data over by postMessage, never in a URL.
  // The user id a signed token is about (not verified here: the server does that).
  function idInToken(token) {
    try {
      var payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(atob(payload));
      return claims.id !== undefined ? claims.id : claims.sub;
    } catch (error) {
      return undefined;
    }
  }

  function identify(user, identityToken) {
    var form = document.getElementById("identify");
    if (!form) return;
    user = user && typeof user === "object" ? user : null;
    identityToken = typeof identityToken === "string" ? identityToken : "";
    var userId = identityToken ? idInToken(identityToken) : user && user.id;
    if (userId === undefined || userId === null) return;
    userId = String(userId);
    if (state.userId && state.userId !== userId) {
      state = { token: newToken() }; // another person signed in on the site: start fresh
    }
    state.userId = userId;
    saveState(state);
    form.elements.custom_user_data.value = user ? JSON.stringify(user) : "";
    form.elements.identity_token.value = identityToken;
    htmx.trigger(form, "frontdesk:identify");
  }

  function forget() {
    state = { token: newToken() };
    saveState(state);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || typeof event.data !== "object") return;
    if (event.data.type === "frontdesk:init") {
      if (typeof event.data.page_url === "string") hostPage = event.data.page_url.slice(0, 1000);
      var handed = event.data.token;
      if (!storageWorks && typeof handed === "string" && /^[0-9a-f]{48}$/.test(handed)) {
        state = { token: handed, userId: state.userId };
      }
      start();
      if (event.data.custom_user_data || event.data.identity_token) {
        identify(event.data.custom_user_data, event.data.identity_token);
      }
    } else if (event.data.type === "frontdesk:focus") {
      focusPane();
    }

  });

  // Tell the site's developer why a signed identity was refused (never the token itself).
  document.addEventListener("htmx:after:request", function (event) {
    var response = event.detail.ctx && event.detail.ctx.response;
    var reason = response && response.headers && response.headers.get("X-Frontdesk-Identity-Error");
    if (reason) console.warn("Frontdesk: identity_token refused: " + reason);
  });

  function tellHost(type) {
    if (window.parent !== window) window.parent.postMessage({ type: type }, "*");
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-minimize]")) tellHost("frontdesk:close");
  });

  // Keyboard: opening the chat puts the cursor in it (the form's first field, or the message
  // box), also once the pane has loaded or replaced itself (the form sent: the message box, or
  // the first field it refused, which reads out its error); Escape closes it.
  var focusWanted = false;
  function focusPane() {
    var pane = document.getElementById("pane");
    var field = pane && (pane.querySelector("[aria-invalid=true]") ||
      pane.querySelector("input:not([type=hidden]), textarea, button"));
    focusWanted = !field; // still loading: the pane's arrival takes the focus
    if (field) field.focus({ preventScroll: true });
  }
  document.addEventListener("htmx:after:swap", function (event) {
    var target = event.detail.ctx && event.detail.ctx.target;
    if (!target || target.id !== "pane") return;
    var lost = !document.activeElement || document.activeElement === document.body;
    if (focusWanted || (lost && document.hasFocus())) focusPane();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) tellHost("frontdesk:close");
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

  document.addEventListener("htmx:after:swap", function () {
    var box = document.querySelector("textarea[data-enter-sends]");
    if (keepTyping && box) box.focus({ preventScroll: true });
  });

  // Replies the visitor has not seen, for the host page's launcher while the chat is closed: the
  // count and the newest one's first words go to the page that sent the handshake, and nothing
  // else. A reply is seen once the chat shows it: open on the host page, on a visible tab.
  var hostOrigin = null;
  var hostShows = !embedded; // the loader says when it shows or hides this iframe
  var unreadTimer = null;

  function checkUnread() { // soon: a burst of swaps asks once
    clearTimeout(unreadTimer);
    unreadTimer = setTimeout(reportUnread, 150);
  }

  function askUnread(method) {
    var url = document.body.getAttribute("data-unread-url");
    return fetch(url, { method: method, headers: { "X-Frontdesk-Token": state.token } })
      .then(function (response) {
        if (!response.ok) throw new Error("unread: " + response.status);
        return response.json();
      });
  }

  function reportUnread() {
    if (!document.getElementById("messages")) return; // no chat pane (yet): nothing to count
    var seeing = hostShows && document.visibilityState === "visible";
    askUnread("GET")
      .then(function (notice) { return seeing && notice.unread > 0 ? askUnread("POST") : notice; })
      .then(function (notice) {
        if (!notice.chatting || !embedded || !hostOrigin) return;
        window.parent.postMessage(
          { type: "frontdesk:unread", unread: notice.unread, preview: notice.preview }, hostOrigin
        );
      })
      .catch(function () { /* offline or refused: the next change asks again */ });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || typeof event.data !== "object") return;
    if (event.data.type === "frontdesk:init") hostOrigin = event.origin;
    if (event.data.type === "frontdesk:visible") hostShows = event.data.visible === true;
    if (event.data.type === "frontdesk:init" || event.data.type === "frontdesk:visible") {
      checkUnread();
    }
  });
  document.addEventListener("htmx:after:swap", checkUnread);
  document.addEventListener("visibilitychange", checkUnread);

  // The live stream's htmx extension (hx-sse) comes with the first pane that has a stream to
  // follow (a visitor who has written): one who only looks never downloads it. The frame names
  // its hashed file; once it is here, it follows every stream htmx swaps in by itself.
  var liveScript = null;
  function followLive() {
    var live = document.querySelector("#live[hx-sse\\:connect]");
    var src = document.body.getAttribute("data-live-script");
    if (!live || liveScript || !src) return;
    liveScript = document.createElement("script");
    liveScript.src = src;
    liveScript.onload = function () { htmx.process(document.getElementById("live")); };
    liveScript.onerror = function () { liveScript.remove(); liveScript = null; };
    document.head.appendChild(liveScript);
  }
  document.addEventListener("htmx:after:swap", followLive);

  // Loaded as the loader's hidden courier after Frontdesk("logout"): the server stops honouring
  // this browser's token, the token is forgotten, and nothing else happens.
  function logOut() {
    var done = function () {
      forget();
      tellHost("frontdesk:forgotten");
    };
    var url = document.body.getAttribute("data-logout-url");
    htmx.ajax("POST", url, { source: document.body, swap: "none" }).then(done, done);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (new URLSearchParams(window.location.search).has("logout")) return logOut();
    if (embedded) {
      window.parent.postMessage({ type: "frontdesk:ready", needs_token: !storageWorks }, "*");
    }
    if (storageWorks || !embedded) start();
  });
})();
