/* Progressive enhancement only: every page works without this file.
 * - Copy buttons ([data-copy]) are hidden in the HTML and shown here when copying can work.
 * - AdSense slots (ins.adsbygoogle) are filled from here, so no inline script is needed (CSP).
 */
(function () {
  "use strict";

  var status = document.querySelector("[data-copy-status]");

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (err) {
      done = false;
    }
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function announce(message) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function confirm(button, ok) {
    var label = button.querySelector(".copy__text");
    if (!label) return;
    window.clearTimeout(button._copyTimer);
    label.textContent = ok ? "Copied" : "Press Ctrl+C";
    button.classList.toggle("is-copied", ok);
    announce(ok ? "Copied " + button.getAttribute("data-copy") : "Copying is not available");
    button._copyTimer = window.setTimeout(function () {
      label.textContent = "Copy";
      button.classList.remove("is-copied");
    }, 2000);
  }

  function enableCopyButtons() {
    var canCopy = (navigator.clipboard && window.isSecureContext) ||
      (document.queryCommandSupported && document.queryCommandSupported("copy"));
    if (!canCopy) return;
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(button.getAttribute("data-copy")).then(
          function () { confirm(button, true); },
          function () { confirm(button, false); }
        );
      });
    });
  }

  function fillAdSlots() {
    var slots = document.querySelectorAll("ins.adsbygoogle");
    if (!slots.length) return;
    window.adsbygoogle = window.adsbygoogle || [];
    Array.prototype.forEach.call(slots, function () {
      try {
        window.adsbygoogle.push({});
      } catch (err) {
        /* an ad blocker or a network error: the reserved space stays empty */
      }
    });
  }

  function start() {
    enableCopyButtons();
    fillAdSlots();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
