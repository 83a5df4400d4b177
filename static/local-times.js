/* Times are stored and sent in UTC; each <time datetime> is shown in the reader's own time zone,
   in the page's language, on load and after every htmx swap. Shared by the widget and the admin. */
(function () {
  "use strict";
  function showLocalTimes() {
    var lang = document.documentElement.lang || undefined;
    var sameDay = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
    var otherDay = new Intl.DateTimeFormat(lang, {
      day: "numeric", month: "short", hour: "numeric", minute: "2-digit",
    });
    var today = new Date().toDateString();
    document.querySelectorAll("time[datetime]").forEach(function (time) {
      var date = new Date(time.getAttribute("datetime"));
      if (isNaN(date)) return;
      time.textContent = (date.toDateString() === today ? sameDay : otherDay).format(date);
      time.title = date.toLocaleString(lang);
    });
  }
  document.addEventListener("DOMContentLoaded", showLocalTimes);
  document.addEventListener("htmx:after:swap", showLocalTimes);
  document.addEventListener("htmx:sse:after:message", showLocalTimes);
})();
