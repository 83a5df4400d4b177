/* The admin's navigation on a phone: the Menu button shows and hides the links (and Sign out).
   The button stays hidden without this script, so the links then simply wrap. */
(function () {
  "use strict";
  var button = document.querySelector(".menu-toggle");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();
