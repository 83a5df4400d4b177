/* The typing indicator's other half: while someone types in a message box (a textarea marked
   data-enter-sends), the page's [data-typing] element posts "typing" at most every few seconds.
   The widget and the admin conversation page share it. */
(function () {
  "use strict";
  if (window.frontdeskTyping) return; // included again by a swapped-in page part
  window.frontdeskTyping = true;
  var EVERY_MS = 4000;
  var last = 0;
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-enter-sends]") || !box.value.trim()) return;
    if (box.closest(".note-mode")) return; // an internal note: the visitor must not be told
    var now = Date.now();
    var notice = document.querySelector("[data-typing]");
    if (!notice || now - last < EVERY_MS) return;
    last = now;
    htmx.trigger(notice, "frontdesk:typing");
  });
  // A sent message ends the typing: the next keystroke may tell again at once.
  document.addEventListener("submit", function () { last = 0; });
})();
