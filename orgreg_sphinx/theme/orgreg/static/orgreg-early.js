/* orgreg theme: run before the first paint (a blocking script in <head>):
   the remembered colour scheme, and "JS is on". A file of its own, cached,
   rather than the same lines inline in every page of the registry. */
(function () {
  var root = document.documentElement, mode = null;
  root.classList.add("orgreg-js");
  try { mode = localStorage.getItem("orgreg-theme"); } catch (e) {}
  if (mode === "dark" || mode === "light") {
    root.setAttribute("data-theme", mode);
    var dark = document.getElementById("pygments_dark_css");
    if (dark) { dark.media = mode === "dark" ? "all" : "not all"; }
  }
})();
