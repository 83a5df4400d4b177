/* The workspace's keyboard: j/k move through the list, elements marked data-shortcut="<key>" are
   clicked (buttons) or focused (fields), "/" goes to the search box, "?" toggles the help.
   Keys typed into a field are the field's, and a key with Ctrl, Alt or Meta is the browser's. */
(function () {
  "use strict";

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox-rows > li > a"));
  }

  function move(step) {
    var links = rows();
    if (!links.length) return;
    var current = links.indexOf(document.querySelector("#inbox-rows a[aria-current]"));
    var next = current < 0 ? 0 : Math.min(Math.max(current + step, 0), links.length - 1);
    if (next !== current) links[next].click();
  }

  function use(key) {
    var target = document.querySelector('[data-shortcut="' + key + '"]');
    if (!target) return false;
    if (typing(target)) target.focus(); else target.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    var help = document.getElementById("shortcuts-help");
    var handled = true;
    if (event.key === "j") move(1);
    else if (event.key === "k") move(-1);
    else if (event.key === "?" && help) help.togglePopover();
    else if (event.key === "/") document.getElementById("inbox-search").focus();
    else handled = (event.key === "r" || event.key === "e") && use(event.key);
    if (handled) event.preventDefault();  // "r" must not also be typed into the reply box
  });

  // A reply being written stays with its conversation: morphing keeps a textarea's typed text,
  // so the box is emptied before another conversation comes into the pane.
  document.addEventListener("htmx:before:swap", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var workspace = document.getElementById("workspace");
    var reply = document.getElementById("reply");
    if (!ctx || !workspace || !reply || !ctx.request) return;
    var target = typeof ctx.target === "string" ? document.querySelector(ctx.target) : ctx.target;
    if (target !== workspace) return;
    var next = new URL(ctx.request.action, location.href).searchParams.get("conversation") || "";
    if (next !== workspace.getAttribute("data-conversation")) reply.reset();
  });

  // The open conversation's row stays in sight as j/k move through a long list.
  document.addEventListener("htmx:after:swap", function () {
    var open = document.querySelector("#inbox-rows a[aria-current]");
    if (open) open.scrollIntoView({block: "nearest"});
  });
})();
