/* Copy buttons beside code blocks (templates/admin/_snippet.html): the button's data-copy names
   the block; "Copied" shows beside it and is announced (a polite status). The buttons stay
   hidden where the Clipboard API is missing (a page not served over https, an old browser). */
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    var status = button.parentNode.querySelector(".copied");
    var timer = null;
    button.addEventListener("click", function () {
      var code = document.getElementById(button.getAttribute("data-copy"));
      navigator.clipboard.writeText(code.textContent).then(function () {
        status.textContent = "Copied";
      }, function () {
        status.textContent = "Could not copy: select the text and copy it yourself.";
      }).then(function () {
        clearTimeout(timer);
        timer = setTimeout(function () { status.textContent = ""; }, 4000);
      });
    });
  });
})();
