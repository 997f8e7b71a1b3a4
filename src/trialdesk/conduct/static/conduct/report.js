// The report page's interactive plots: each <div class="plotly-plot" data-figure="ID"> is
// drawn from the JSON in <script type="application/json" id="ID"> (Django's json_script,
// never executed) with plotly.js served from this site. No inline script: the site's CSP.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".plotly-plot[data-figure]").forEach(function (div) {
    var source = document.getElementById(div.dataset.figure);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    Plotly.newPlot(div, spec.data, spec.layout, {
      responsive: true,
      displaylogo: false,
      displayModeBar: false
    }).then(function () { div.dataset.drawn = "true"; });
  });
});
