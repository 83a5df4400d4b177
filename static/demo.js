/* The demo shop's own script (templates/demo.html): what a customer's snippet does, from a file,
   since the page allows no inline script. It sets window.frontdeskSettings before the loader
   (embed.js, async) reads it, and drives the "Log in as a demo customer" switch. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("demo-data").textContent);
  // Demo only: a signed-in customer of this shop, for the "through code" authentication type.
  // The shop's server signed this customer's identity with the widget's secret (see Install).
  window.demoCustomer = data.customer;
  window.demoIdentityToken = data.identity_token;
  window.frontdeskSettings = { widget: data.widget };
  if (localStorage.getItem("demo-signed-in") === "yes") {
    window.frontdeskSettings.custom_user_data = window.demoCustomer;
    window.frontdeskSettings.identity_token = window.demoIdentityToken;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("demo-sign-in");
    box.checked = localStorage.getItem("demo-signed-in") === "yes";
    box.addEventListener("change", function () {
      localStorage.setItem("demo-signed-in", box.checked ? "yes" : "no");
      if (!window.Frontdesk) return;
      if (box.checked) {
        window.Frontdesk("update", {
          custom_user_data: window.demoCustomer,
          identity_token: window.demoIdentityToken
        });
      }
      else window.Frontdesk("logout");
    });
  });
})();
