/* Progressive enhancement only: every page works without this file.
 * - Copy buttons ([data-copy]) are hidden in the HTML and shown here when copying can work.
 * - AdSense slots (ins.adsbygoogle) are filled from here, so no inline script is needed (CSP).
 * - Live inbox ([data-live]): polls the number's message fragment with its ETag while the
 *   tab is visible (5 s, backing off to 60 s while nothing changes) and inserts new cards.
 * - Theme toggle ([data-theme-toggle]) and the home page's instant country filter.
 * Texts come from data-text-* attributes the server rendered in the page's language.
 */
(function () {
  "use strict";

  var status = document.querySelector("[data-copy-status]");
  var canCopy = Boolean((navigator.clipboard && window.isSecureContext) ||
    (document.queryCommandSupported && document.queryCommandSupported("copy")));

  function say(name, fallback) {
    return (status && status.getAttribute("data-text-" + name)) || fallback;
  }

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

  function announce(message, region) {
    region = region || status;
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  function selectNextTo(button) {
    /* Copying failed: select the code (or number) so that Ctrl+C / long-press works. */
    var box = button.parentNode;
    var shown = box && box.querySelector("code, [data-number]");
    var target = shown || document.querySelector("[data-number]");
    if (!target || !window.getSelection) return;
    var range = document.createRange();
    range.selectNodeContents(target);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }

  function confirm(button, ok) {
    var label = button.querySelector(".copy__text");
    if (!label) return;
    window.clearTimeout(button._copyTimer);
    label.textContent = ok ? say("copied", "Copied") : say("press", "Press Ctrl+C");
    button.classList.toggle("is-copied", ok);
    if (!ok) selectNextTo(button);
    announce(ok ? say("announce", "Copied {text}").replace("{text}", button.getAttribute("data-copy"))
      : say("unavailable", "Copying is not available"));
    button._copyTimer = window.setTimeout(function () {
      label.textContent = say("copy", "Copy");
      button.classList.remove("is-copied");
    }, 2000);
  }

  function showCopyButtons(root) {
    if (!canCopy) return;
    Array.prototype.forEach.call(root.querySelectorAll("button[data-copy]"), function (button) {
      button.hidden = false;
    });
  }

  function enableCopyButtons() {
    /* One listener for every copy button, also those the live inbox adds later. */
    if (!canCopy) return;
    showCopyButtons(document);
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
      if (!button) return;
      copyText(button.getAttribute("data-copy")).then(
        function () { confirm(button, true); },
        function () { confirm(button, false); }
      );
    });
  }

  var LIVE_DELAYS = [5000, 10000, 20000, 60000];

  function startLiveInbox() {
    var section = document.querySelector("[data-live]");
    if (!section || !window.fetch || !document.createElement("template").content) return;
    var url = section.getAttribute("data-live");
    var since = Number(section.getAttribute("data-live-since")) || 0;
    var region = section.querySelector("[data-live-status]");
    var title = document.title;
    var etag = null;
    var step = 0;
    var timer = null;
    var busy = false;
    var stopped = false;
    var unseen = 0;

    function schedule(delay) {
      window.clearTimeout(timer);
      timer = null;
      if (!document.hidden && !stopped) timer = window.setTimeout(poll, delay);
    }

    function clearCounter() {
      if (!unseen) return;
      unseen = 0;
      document.title = title;
    }

    function insert(html) {
      var holder = document.createElement("template");
      holder.innerHTML = html;
      var cards = holder.content.querySelectorAll(".message[data-message-id]");
      var anchor = section.querySelector(".message");
      var added = 0;
      Array.prototype.forEach.call(cards, function (card) {
        var id = Number(card.getAttribute("data-message-id"));
        since = Math.max(since, id);
        if (document.getElementById(card.id)) return;
        card.classList.add("message--new");
        showCopyButtons(card);
        if (anchor) {
          anchor.parentNode.insertBefore(card, anchor);
        } else {
          section.appendChild(card);
        }
        added += 1;
      });
      if (!added) return 0;
      var empty = section.querySelector("[data-live-empty]");
      if (empty) empty.parentNode.removeChild(empty);
      var note = holder.content.querySelector("[data-live-announce]");
      if (note) announce(note.textContent.trim(), region);
      unseen += added;
      document.title = "(" + unseen + ") " + title;
      return added;
    }

    function poll() {
      timer = null;
      if (document.hidden || busy || stopped) return;
      busy = true;
      var headers = etag ? { "If-None-Match": etag } : {};
      var address = url + (url.indexOf("?") < 0 ? "?" : "&") + "since=" + since;
      /* no-store: the 304 must reach this code, not be answered from the HTTP cache. */
      window.fetch(address, { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 304) return "";
          if (response.status === 404 || response.status === 410) stopped = true;
          if (!response.ok) return "";
          etag = response.headers.get("ETag");
          return response.text();
        })
        .then(function (html) {
          var added = html ? insert(html) : 0;
          step = added ? 0 : Math.min(step + 1, LIVE_DELAYS.length - 1);
        }, function () {
          step = Math.min(step + 1, LIVE_DELAYS.length - 1);
        })
        .then(function () {
          busy = false;
          schedule(LIVE_DELAYS[step]);
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        schedule(0);
        return;
      }
      clearCounter();
      step = 0;
      poll();
    });
    window.addEventListener("focus", clearCounter);
    document.addEventListener("pointerdown", clearCounter);
    document.addEventListener("keydown", clearCounter);
    schedule(LIVE_DELAYS[0]);
  }

  function effectiveTheme(root) {
    var chosen = root.getAttribute("data-theme");
    if (chosen) return chosen;
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    return dark ? "dark" : "light";
  }

  function startThemeToggle() {
    /* Two states that always flip what is shown; a choice equal to the system's is forgotten,
     * so the page follows the system again. */
    var button = document.querySelector("[data-theme-toggle]");
    if (!button) return;
    var root = document.documentElement;
    var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    function show() {
      button.setAttribute("aria-pressed", String(effectiveTheme(root) === "dark"));
    }
    button.addEventListener("click", function () {
      var next = effectiveTheme(root) === "dark" ? "light" : "dark";
      var system = media && media.matches ? "dark" : "light";
      try {
        if (next === system) {
          window.localStorage.removeItem("theme");
        } else {
          window.localStorage.setItem("theme", next);
        }
      } catch (err) {
        /* storage blocked: the choice lasts for this page only */
      }
      if (next === system) {
        root.removeAttribute("data-theme");
      } else {
        root.setAttribute("data-theme", next);
      }
      show();
    });
    if (media && media.addEventListener) media.addEventListener("change", show);
    show();
  }

  var MARKS = (function () {
    try {
      return new RegExp("\\p{M}", "gu");
    } catch (err) {
      return /[\u0300-\u036f]/g;
    }
  })();
  var NOT_WORD = (function () {
    try {
      return new RegExp("[^\\p{L}\\p{N}_]+", "gu");
    } catch (err) {
      return /[\s.,'()\-]+/g;
    }
  })();

  function normalize(value) {
    /* The same as webapp/search.py normalize(): lower case, no accents, no punctuation. */
    var bare = value.toLowerCase().replace(/\u00df/g, "ss").normalize("NFKD").replace(MARKS, "");
    return bare.replace(NOT_WORD, " ").trim().replace(/\s+/g, " ");
  }

  function countryMatches(terms, raw) {
    var query = raw.trim();
    if (/^[+0-9\s().\-\/]+$/.test(query) && /[0-9]/.test(query)) {
      var digits = query.replace(/[^0-9]/g, "").replace(/^00/, "");
      return ("|" + terms + "|").indexOf("|+" + digits + "|") !== -1;
    }
    var text = normalize(query);
    return !text || terms.indexOf(text) !== -1;
  }

  function startCountryFilter() {
    var form = document.querySelector("[data-country-filter]");
    var list = document.querySelector("[data-country-list]");
    if (!form || !list) return;
    var input = form.querySelector("input[name=q]");
    var items = list.querySelectorAll("li[data-terms]");
    var empty = document.querySelector("[data-filter-empty]");
    function filter() {
      var shown = 0;
      Array.prototype.forEach.call(items, function (item) {
        var match = countryMatches(item.getAttribute("data-terms"), input.value);
        item.hidden = !match;
        if (match) shown += 1;
      });
      if (empty) empty.hidden = shown > 0;
    }
    input.addEventListener("input", filter);
    if (input.value) filter();
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
    startLiveInbox();
    startThemeToggle();
    startCountryFilter();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
