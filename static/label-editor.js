/* The label editor's search and "untranslated or overridden only" filter, applied as the admin
   types; without this script the same filter form reloads the page (admin/label_editor.py,
   row_shown: a row shows when its data-search holds the typed words; a row with an error always
   shows). */
(function () {
  "use strict";
  var search = document.getElementById("label-search");
  var only = document.getElementById("label-attention");
  var count = document.getElementById("label-count");
  if (!search || !only) return;
  var rows = document.querySelectorAll("tr.label-row");
  var groups = document.querySelectorAll(".label-group");

  function apply() {
    var query = search.value.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var keep = row.classList.contains("invalid") || (
        (!only.checked || row.hasAttribute("data-attention")) &&
        row.getAttribute("data-search").indexOf(query) !== -1);
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    Array.prototype.forEach.call(groups, function (group) {
      group.hidden = !group.querySelector("tr.label-row:not([hidden])");
      var link = document.querySelector('.label-groups a[href="#' + group.getAttribute("aria-labelledby") + '"]');
      if (link) link.hidden = group.hidden;
    });
    count.textContent = shown + " of " + rows.length + " labels shown";
    document.getElementById("no-label-matches").hidden = shown > 0;
    var url = new URL(window.location.href);
    if (query) url.searchParams.set("q", search.value.trim()); else url.searchParams.delete("q");
    if (only.checked) url.searchParams.set("only", only.value); else url.searchParams.delete("only");
    window.history.replaceState(null, "", url);
    var form = document.getElementById("label-form");
    if (form) form.action = url.href;  // after saving, the editor comes back filtered alike
  }

  search.addEventListener("input", apply);
  only.addEventListener("change", apply);
})();
