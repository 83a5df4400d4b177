/* Frontdesk loader: the one script a site includes. It only draws the launcher button; the chat
   itself (the iframe, its handshake, logging out) is embed-chat.js, fetched once it is needed.
   Styles live in a shadow root so the host page's CSS and ours never meet.

     <script>window.frontdeskSettings = {widget: "KEY", custom_user_data: {id: "42", name: "Ada"}};</script>
     <script src="https://chat.example.com/embed.js" async></script>

   Optional settings: language, identity_token (signed by the site's server). Then
   Frontdesk("update", {...}), Frontdesk("logout"), Frontdesk("open"), Frontdesk("close"). */
(function () {
  "use strict";
  if (window.Frontdesk && window.Frontdesk.loaded) return;

  var script = document.currentScript;
  var settings = window.frontdeskSettings || {};
  // Shared with embed-chat.js (as Frontdesk._); draw() adds host and launcher, ready() chat.
  var fd = {
    origin: new URL(script.src).origin,
    key: settings.widget || script.getAttribute("data-widget"),
    user: settings.custom_user_data || null,
    token: settings.identity_token || null,
    language: typeof settings.language === "string" ? settings.language : "",
    draw: draw,
  };
  var waiting = [], loading = false;

  var STYLE = // the open launcher's looks come with embed-chat.js
    ":host{all:initial}" +
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;" +
    "padding:0 20px 0 16px;height:52px;border:0;border-radius:26px;background:#2d5be3;color:#fff;" +
    "font:600 15px/1 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;cursor:pointer;" +
    "box-shadow:0 6px 20px rgba(20,40,120,.28);transition:transform .15s}" +
    ".launcher:hover{transform:translateY(-2px)}" +
    ".launcher:focus-visible{outline:3px solid #9db5ff;outline-offset:3px}" +
    ".launcher svg{width:24px;height:24px}";
  var ICON =
    '<svg class="open" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

  function draw() {
    // "Through code" (needs_site_user): the chat exists only for the site's signed-in users.
    var config = fd.config;
    if (!config || (config.needs_site_user && !(fd.user || fd.token))) return remove();
    if (fd.host) return;
    fd.host = document.createElement("div");
    fd.host.id = "frontdesk-widget";
    var style = document.createElement("style");
    style.textContent = STYLE;
    var button = (fd.launcher = document.createElement("button"));
    button.type = "button";
    button.className = "launcher";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", config.launcher_label);
    button.innerHTML = ICON + '<span class="label"></span>';
    button.lastChild.textContent = config.launcher_label;
    button.addEventListener("click", function () { run("toggle"); });
    button.addEventListener("pointerenter", load); // a head start: most hovers end in a click
    brand(button, config);
    fd.host.attachShadow({ mode: "open" }).append(style, button);
    document.body.appendChild(fd.host);
  }

  // The launcher in the widget's colour, on its side, with or without its label (General):
  // settings.json gives the declarations, made from checked settings.
  function brand(button, config) {
    button.style.cssText = config.launcher_css;
    button.lastChild.hidden = config.icon_only;
  }

  function remove() {
    if (fd.host) fd.host.remove();
    fd.host = fd.launcher = null;
    if (fd.chat) fd.chat.forget();
  }

  function load() {
    if (loading) return;
    loading = true;
    var chat = document.createElement("script");
    chat.src = fd.origin + "/static/embed-chat.js"; // the build names the hashed file
    chat.onerror = function () { loading = false; console.warn("Frontdesk: the chat did not load."); };
    document.head.appendChild(chat);
  }

  function run(command) {
    if (fd.chat) fd.chat[command]();
    else waiting.push(command), load();
  }

  // A visitor who chats here: the rest comes at once, to show replies they have not read.
  function watchUnread() {
    try {
      if (localStorage.getItem("frontdesk:" + fd.key + ":chatting")) run("watch");
    } catch (error) { /* no storage: nothing to watch */ }
  }

  fd.ready = function (chat) { // embed-chat.js has arrived: what was asked of it meanwhile
    fd.chat = chat;
    waiting.splice(0).forEach(run);
  };

  window.Frontdesk = function (command, options) {
    options = options || {};
    if (command === "update") {
      if ("custom_user_data" in options) fd.user = options.custom_user_data || null;
      if ("identity_token" in options) fd.token = options.identity_token || null;
      draw();
      if (fd.chat) fd.chat.update();
    } else if (command === "logout") {
      fd.user = fd.token = null;
      try { localStorage.removeItem("frontdesk:" + fd.key); } catch (error) { /* none kept */ }
      remove(); // the chat of the person who left disappears at once
      if (fd.config) run("logout"); // the iframe's storage and the server forget the session too
      draw();
    } else if (command === "open") {
      run("open");
    } else if (command === "close" && fd.chat) {
      fd.chat.close();
    }
  };
  window.Frontdesk.loaded = true;
  window.Frontdesk._ = fd;

  if (!fd.key) return console.warn("Frontdesk: no frontdeskSettings.widget key.");
  var query = fd.language ? "?lang=" + encodeURIComponent(fd.language) : "";
  fetch(fd.origin + "/widget/" + encodeURIComponent(fd.key) + "/settings.json" + query, {
    credentials: "omit",
  })
    .then(function (response) {
      if (!response.ok) throw new Error("unknown widget key " + fd.key);
      return response.json();
    })
    .then(function (config) {
      fd.config = config;
      if (document.body) draw();
      else document.addEventListener("DOMContentLoaded", draw);
      watchUnread();
    })
    .catch(function (error) {
      console.warn("Frontdesk: not shown (" + error.message + "). Is this site an allowed " +
        "domain of the widget, and its server reachable?");
    });
})();
