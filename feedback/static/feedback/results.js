// A feedback form's charts: one bar chart per question, drawn from the JSON the page
// carries; the tables beside them hold the same counts for anyone without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("feedback-data");
  if (!source || !window.Chart) { return; }
  var charts = JSON.parse(source.textContent);
  var locale = document.documentElement.lang || "en";
  charts.forEach(function (chart) {
    var canvas = document.getElementById(chart.id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: { labels: chart.labels, datasets: [{ label: chart.label, data: chart.counts, backgroundColor: "#2f5d50" }] },
      options: { responsive: true, maintainAspectRatio: false, locale: locale,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  });
})();
