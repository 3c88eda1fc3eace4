// The page's JSON, asked for before plotly.js loads and compiles (a second or more without a
// fast machine): the server reads the experiment meanwhile, and follow() draws this answer first.
"use strict";

function pageDataUrl() {
  const path = window.location.pathname;
  return path === "/" ? "/api/index" : "/api" + path;
}

window.prefetched = fetch(pageDataUrl(), { cache: "no-store" });
