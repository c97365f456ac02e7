// Wardgate console: the little that needs script. Pages work without it.
// Loaded from the gateway itself (CSP script-src 'self'); no inline handlers anywhere.
(function () {
  "use strict";
  function ready() {
    // The viewer's time zone goes with the sign-in form, so the server shows times in it.
    document.querySelectorAll("input[data-time-zone]").forEach(function (input) {
      try {
        input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      } catch (e) {
        input.value = "";
      }
    });
    // Copy buttons (a new API key is shown once): copy the text of the element named.
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (source && navigator.clipboard) {
          navigator.clipboard.writeText(source.textContent.trim());
          button.setAttribute("data-copied", "true");
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
