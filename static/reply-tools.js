/* The conversation's reply box (templates/admin/_reply.html): reply or internal note, canned
   replies, the question before reopening a closed conversation, and a send that failed. */
(function () {
  "use strict";

  function replyForm(element) {
    return element && element.closest ? element.closest("#reply") : null;
  }

  function isNote(form) {
    var checked = form.querySelector("input[name=mode]:checked");
    return Boolean(checked && checked.value === "note");
  }

  // Reply or note: the box, its placeholder and its button say which.
  document.addEventListener("change", function (event) {
    var form = replyForm(event.target);
    if (!form || event.target.name !== "mode") return;
    var note = isNote(form);
    var box = form.querySelector("textarea");
    var button = form.querySelector("button[type=submit]");
    form.classList.toggle("note-mode", note);
    box.placeholder = box.getAttribute(note ? "data-note-placeholder" : "data-reply-placeholder");
    button.textContent = button.getAttribute(note ? "data-note-label" : "data-reply-label");
    box.focus();
  });

  // A canned reply goes into the box where the cursor is; the picker is ready again.
  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("[data-canned-picker]") || !picker.value) return;
    var box = replyForm(picker).querySelector("textarea");
    var start = box.selectionStart, end = box.selectionEnd;
    box.value = box.value.slice(0, start) + picker.value + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + picker.value.length;
    picker.value = "";
    box.focus();
  });

  // A closed conversation asks before a reply reopens it (hx-confirm); a note asks nothing.
  document.addEventListener("htmx:confirm", function (event) {
    var form = replyForm(event.target);
    if (!form || !isNote(form)) return;
    event.preventDefault();
    event.detail.issueRequest();
  });

  // A reply that could not be sent stays in the box, and the box says so.
  function showSendError(event, visible) {
    var form = replyForm(event.target);
    var notice = form && form.querySelector("[data-send-error]");
    if (notice) notice.hidden = !visible;
  }
  document.addEventListener("htmx:before:request", function (event) { showSendError(event, false); });
  document.addEventListener("htmx:error", function (event) { showSendError(event, true); });
  document.addEventListener("htmx:response:error", function (event) {
    var status = event.detail.ctx.response && event.detail.ctx.response.status;
    if (status !== 422 && status !== 409) showSendError(event, true);
  });
})();
