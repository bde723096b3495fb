/* Applies the remembered colour theme before the first paint (a classic script, loaded in
   <head>, so the page never flashes the wrong theme). No choice stored: the stylesheet
   follows prefers-color-scheme. The toggle itself lives in theme.js. */
(function () {
  try {
    var theme = localStorage.getItem("trilink-theme");
    if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
  } catch (e) {
    /* storage blocked: follow the system */
  }
})();
