/* In a textarea marked data-enter-sends, Enter sends the form and Shift+Enter breaks the line.
   On a touch keyboard Enter stays a line break (the send button is right there), and an input
   method's Enter (composing Japanese, say) is left alone. Shared by the widget and the admin. */
(function () {
  "use strict";
  var touchKeyboard = window.matchMedia("(pointer: coarse)").matches;
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || touchKeyboard) return;
    if (!field.matches || !field.matches("textarea[data-enter-sends]")) return;
    event.preventDefault();
    if (field.value.trim()) field.form.requestSubmit();
  });
})();
