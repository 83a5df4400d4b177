/* Telling the agent of a visitor's message (the live stream's "visitor-message" events, see
   admin/notify.py): a desktop notification and a short tone, each as the agent chose on Your
   account (the body's data-notify-desktop and data-notify-sound), unless the agent is looking
   at that very conversation. The browser's permission is asked for only from the button on
   Your account, never on page load. */
(function () {
  "use strict";

  // hx-sse pauses a stream while its tab is hidden; an agent in another tab must still be told.
  htmx.config.sse = Object.assign({}, htmx.config.sse, { pauseOnBackground: false });

  function setting(name) {
    return document.body && document.body.getAttribute("data-notify-" + name) === "on";
  }

  function supported() {
    return "Notification" in window;
  }

  function lookingAt(conversation) {
    return !document.hidden && window.frontdeskOpenConversation() === String(conversation);
  }

  function showNotification(alert) {
    if (!setting("desktop") || !supported() || Notification.permission !== "granted") return;
    var shown = new Notification(alert.title + ": " + alert.name, {
      body: alert.text,
      tag: "frontdesk-conversation-" + alert.conversation, // one per conversation, the newest
    });
    shown.onclick = function () {
      window.focus();
      window.location.href = alert.url;
      shown.close();
    };
  }

  // The tone is made, not loaded: two short sine notes. Browsers let a page play sound only
  // after the person has used it, so the audio context is started on their first click or key.
  var audio = null;
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  function playTone() {
    if (!setting("sound") || !audio || audio.state !== "running") return;
    [660, 880].forEach(function (frequency, index) {
      var start = audio.currentTime + index * 0.15;
      var note = audio.createOscillator();
      var volume = audio.createGain();
      note.type = "sine";
      note.frequency.value = frequency;
      volume.gain.setValueAtTime(0.0001, start);
      volume.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + 0.14);
      note.connect(volume).connect(audio.destination);
      note.start(start);
      note.stop(start + 0.15);
    });
  }

  document.addEventListener("visitor-message", function (event) {
    var alert;
    try {
      alert = JSON.parse(event.detail && event.detail.data);
    } catch (error) {
      return;
    }
    if (!alert || lookingAt(alert.conversation)) return;
    showNotification(alert);
    playTone();
  });

  // Your account: the button that asks for the permission, and what the browser answered.
  function showPermission() {
    var box = document.querySelector("[data-notification-permission]");
    if (!box) return;
    var state = supported() ? Notification.permission : "unsupported";
    box.querySelector("[data-ask-notifications]").hidden = state !== "default";
    box.querySelectorAll("[data-permission-state]").forEach(function (line) {
      line.hidden = line.getAttribute("data-permission-state") !== state;
    });
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-ask-notifications]") || !supported()) return;
    Notification.requestPermission().then(showPermission);
  });
  document.addEventListener("DOMContentLoaded", showPermission);
})();
