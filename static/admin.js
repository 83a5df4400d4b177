/* Admin glue: keep the unread count in the page title as the live stream reports it. The open
   conversation's messages count as read on the server as they arrive; while the tab is hidden,
   the title still counts that conversation until the agent comes back to it. */
// The id of the conversation open in the workspace ("?conversation=", or the older
// /admin/conversations/<id> address), or null: notify.js asks it too.
window.frontdeskOpenConversation = function () {
  var path = location.pathname.match(/\/conversations\/(\d+)/);
  return path ? path[1] : new URLSearchParams(location.search).get("conversation");
};

(function () {
  "use strict";
  var unread = parseInt((document.title.match(/^\((\d+)\) /) || [])[1], 10) || 0; // as served
  var newHereWhileHidden = false;

  function showCount() {
    var title = document.title.replace(/^\(\d+\) /, "");
    var count = unread + (newHereWhileHidden ? 1 : 0);
    document.title = count ? "(" + count + ") " + title : title;
  }

  document.addEventListener("inbox-changed", function (event) {
    unread = parseInt(event.detail && event.detail.data, 10) || 0;
    showCount();
  });
  document.addEventListener("visitor-message", function (event) {
    try {
      var conversation = JSON.parse(event.detail.data).conversation;
      if (!document.hidden || window.frontdeskOpenConversation() !== String(conversation)) return;
    } catch (error) {
      return;
    }
    newHereWhileHidden = true;
    showCount();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !newHereWhileHidden) return;
    newHereWhileHidden = false;
    showCount();
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
