/* Admin glue: keep the unread count in the page title as the live stream reports it. */
(function () {
  "use strict";
  document.addEventListener("inbox-changed", function (event) {
    var count = parseInt(event.detail && event.detail.data, 10) || 0;
    var title = document.title.replace(/^\(\d+\) /, "");
    document.title = count ? "(" + count + ") " + title : title;
  });

  // After sending a reply, the cursor goes back to the new, empty reply box (only then: the
  // workspace's other swaps leave the keys to its shortcuts).
  document.addEventListener("htmx:after:swap", function (event) {
    if (!event.target.closest || !event.target.closest("#reply, #thread")) return;
    var box = document.querySelector("#reply textarea");
    if (box && document.activeElement === document.body) box.focus();
  });
})();

/* Forms and buttons that ask first: data-confirm holds the question ({name}: the form's
   data-name). Event handler attributes would need 'unsafe-inline' in the page's policy. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var asker = event.submitter && event.submitter.hasAttribute("data-confirm")
      ? event.submitter : form;
    var question = asker.getAttribute("data-confirm");
    if (!question) return;
    question = question.replace("{name}", form.getAttribute("data-name") || "");
    if (!window.confirm(question)) event.preventDefault();
  });
})();
