/* Runs in <head>, before the first paint: the visitor's chosen theme ("light" or "dark",
 * remembered in localStorage; none = follow the system) goes on <html data-theme>, and
 * <html data-js> tells the stylesheet that the script-only controls will work. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.setAttribute("data-js", "");
  try {
    var theme = window.localStorage.getItem("theme");
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
  } catch (err) {
    /* storage blocked: follow the system */
  }
})();
