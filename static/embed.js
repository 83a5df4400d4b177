/* Frontdesk loader: the one script a site includes. It draws the launcher button and, when the
   visitor opens it, the chat iframe. No framework; styles live in a shadow root so the host page's
   CSS and ours never meet.

     <script>window.frontdeskSettings = {widget: "KEY", custom_user_data: {id: "42", name: "Ada"}};</script>
     <script src="https://chat.example.com/embed.js" async></script>

   Optional settings: language ("de": overrides the widget's language and the browser's),
   identity_token (signed by the site's server). Then Frontdesk("update", {...}),
   Frontdesk("logout"), Frontdesk("open"), Frontdesk("close"). */
(function () {
  "use strict";
  if (window.Frontdesk && window.Frontdesk.loaded) return;

  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var settings = window.frontdeskSettings || {};
  var widgetKey = settings.widget || script.getAttribute("data-widget");
  var userData = settings.custom_user_data || null;
  var identityToken = settings.identity_token || null; // signed by the site's server (JWT)
  var language = typeof settings.language === "string" ? settings.language : "";
  var config = null;
  var host, launcher, frame, frameReady = false, isOpen = false;

  var STYLE = [
    ":host{all:initial}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;",
    "padding:0 20px 0 16px;height:52px;border:0;border-radius:26px;background:#2d5be3;color:#fff;",
    "font:600 15px/1 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;cursor:pointer;",
    "box-shadow:0 6px 20px rgba(20,40,120,.28);transition:transform .15s}",
    ".launcher:hover{transform:translateY(-2px)}",
    ".launcher:focus-visible{outline:3px solid #9db5ff;outline-offset:3px}",
    ".launcher svg{width:24px;height:24px}",
    ".launcher .close{display:none}",
    ".launcher[aria-expanded=true] .open,.launcher[aria-expanded=true] .label{display:none}",
    ".launcher[aria-expanded=true] .close{display:block}",
    ".launcher[aria-expanded=true]{padding:0;width:52px;justify-content:center}",
    "iframe{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:380px;",
    "height:min(640px,calc(100vh - 108px));border:0;border-radius:16px;background:#fff;",
    "box-shadow:0 12px 40px rgba(15,23,42,.25);color-scheme:normal}",
    "iframe[hidden]{display:none}",
    "@media (max-width:480px){iframe{inset:0;width:100%;height:100%;border-radius:0}",
    ".launcher[aria-expanded=true]{display:none}}",
  ].join("");

  var CHAT_ICON = '<svg class="open" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  var CLOSE_ICON = '<svg class="close" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>';

  function widgetUrl(path) {
    return origin + "/widget/" + encodeURIComponent(widgetKey) + path;
  }

  // The iframe's address comes from where this script was loaded, which is right behind any
  // proxy; only the language goes in it, never anything about the user.
  function frameUrl() {
    var url = new URL(widgetUrl(""));
    if (language) url.searchParams.set("lang", language);
    return url.href;
  }

  function shouldShow() {
    // "Through code": the chat exists only for the site's signed-in users.
    return config && (!config.needs_site_user || Boolean(userData || identityToken));
  }

  function draw() {
    if (!shouldShow()) return remove();
    if (host) return;
    host = document.createElement("div");
    host.id = "frontdesk-widget";
    var root = host.attachShadow({ mode: "open" });
    var style = document.createElement("style");
    style.textContent = STYLE;
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", config.launcher_label);
    launcher.innerHTML = CHAT_ICON + CLOSE_ICON + '<span class="label"></span>';
    launcher.querySelector(".label").textContent = config.launcher_label;
    launcher.addEventListener("click", function () { isOpen ? close() : open(); });
    root.append(style, launcher);
    document.body.appendChild(host);
  }

  function remove() {
    if (host) host.remove();
    host = launcher = frame = null;
    frameReady = isOpen = false;
  }

  function open() {
    draw();
    if (!host) return;
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = config.launcher_label;
      frame.src = frameUrl(); // no user data here: it goes by postMessage
      frame.setAttribute("allow", "clipboard-write");
      host.shadowRoot.appendChild(frame);
    }
    frame.hidden = false;
    isOpen = true;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", config.close_label);
  }

  function close() {
    if (!frame) return;
    frame.hidden = true;
    isOpen = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", config.launcher_label);
    launcher.focus();
  }

  var tokenKey = "frontdesk:" + widgetKey;
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

  function forgetHostToken() {
    try { localStorage.removeItem(tokenKey); } catch (error) { /* nothing kept */ }
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
        custom_user_data: userData,
        identity_token: identityToken,
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
    } else if (type === "frontdesk:close") {
      close();
    }
  });

  window.Frontdesk = function (command, options) {
    options = options || {};
    if (command === "update") {
      if ("custom_user_data" in options) userData = options.custom_user_data || null;
      if ("identity_token" in options) identityToken = options.identity_token || null;
      draw();
      sendInit();
    } else if (command === "logout") {
      userData = identityToken = null;
      forgetHostToken();
      remove(); // the chat of the person who left disappears at once
      if (config) sendCourier();
      draw();
    } else if (command === "open") {
      open();
    } else if (command === "close") {
      close();
    }
  };
  window.Frontdesk.loaded = true;

  if (!widgetKey) {
    console.warn("Frontdesk: no widget key; set frontdeskSettings.widget or data-widget.");
    return;
  }
  var query = language ? "?lang=" + encodeURIComponent(language) : "";
  fetch(widgetUrl("/settings.json" + query), { credentials: "omit" })
    .then(function (response) {
      if (!response.ok) throw new Error("unknown widget key " + widgetKey);
      return response.json();
    })
    .then(function (loaded) {
      config = loaded;
      if (document.body) draw();
      else document.addEventListener("DOMContentLoaded", draw);
    })
    .catch(function (error) {
      console.warn(
        "Frontdesk: the widget is not shown (" + error.message + "). Is this site in the " +
        "widget's allowed domains, and is the widget server reachable?"
      );
    });
})();
