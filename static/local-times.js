/* Times are stored and sent in UTC; each <time datetime> is shown in the reader's own time zone,
   in the page's language, on load and after every htmx swap. Shared by the widget and the admin.
   A <time data-relative> of the last hour reads "now", "5 minutes ago" (kept up to date). In a
   list with data-today (the widget's messages), each day of the reader's own begins with a
   separator: data-today, data-yesterday (the language file's words) or the date. */
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
    separateDays(lang);
  }

  function separateDays(lang) {
    document.querySelectorAll("ol[data-today]").forEach(function (list) {
      var previous = null;
      list.querySelectorAll(":scope > li > time[datetime]").forEach(function (time) {
        var date = new Date(time.getAttribute("datetime"));
        var day = date.toDateString();
        var item = time.parentNode;
        var before = item.previousElementSibling;
        if (day !== previous && !(before && before.getAttribute("data-day") === day)) {
          var separator = document.createElement("li");
          separator.className = "fd-day";
          separator.setAttribute("data-day", day);
          separator.appendChild(document.createElement("span")).textContent =
            dayName(list, date, lang);
          list.insertBefore(separator, item);
        }
        previous = day;
      });
    });
  }

  function dayName(list, date, lang) {
    var today = new Date();
    var yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (date.toDateString() === today.toDateString()) return list.getAttribute("data-today");
    if (date.toDateString() === yesterday.toDateString()) {
      return list.getAttribute("data-yesterday");
    }
    var sameYear = date.getFullYear() === today.getFullYear();
    return new Intl.DateTimeFormat(lang, sameYear
      ? { weekday: "short", day: "numeric", month: "long" }
      : { day: "numeric", month: "long", year: "numeric" }).format(date);
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
