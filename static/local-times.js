/* Times are stored and sent in UTC; each <time datetime> is shown in the reader's own time zone,
   in the page's language, on load and after every htmx swap. Shared by the widget and the admin.
   A <time data-relative> of the last hour reads "now", "5 minutes ago" (kept up to date). */
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
      time.textContent = relative(time, date, lang) ||
        (date.toDateString() === today ? sameDay : otherDay).format(date);
      time.title = date.toLocaleString(lang);
    });
  }

  function relative(time, date, lang) {
    if (!time.hasAttribute("data-relative") || !window.Intl || !Intl.RelativeTimeFormat) return "";
    var minutes = Math.floor((Date.now() - date.getTime()) / 60000);
    if (minutes >= 60) return "";
    var words = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    return minutes < 1 ? words.format(0, "second") : words.format(-minutes, "minute");
  }
  setInterval(showLocalTimes, 30000);
  document.addEventListener("DOMContentLoaded", showLocalTimes);
  document.addEventListener("htmx:after:swap", showLocalTimes);
  document.addEventListener("htmx:sse:after:message", showLocalTimes);
})();
