// The dashboard's charts, drawn from the JSON the page carries; the tables beside them
// hold the same figures for anyone without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var locale = document.documentElement.lang || "en";
  var common = { responsive: true, maintainAspectRatio: false, locale: locale };

  var progress = document.getElementById("progress-chart");
  if (progress) {
    new Chart(progress, {
      type: "bar",
      data: {
        labels: data.progress.labels,
        datasets: [{
          label: data.progress.label,
          data: data.progress.percent.map(function (p) { return Math.round(p * 1000) / 10; }),
          backgroundColor: "#2f5d50"
        }]
      },
      options: Object.assign({ indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, suggestedMax: 100,
          ticks: { callback: function (value) { return value + " %"; } } } } }, common)
    });
  }

  var registrations = document.getElementById("registrations-chart");
  if (registrations) {
    new Chart(registrations, {
      type: "bar",
      data: {
        labels: data.registrations.labels,
        datasets: [
          { label: data.registrations.course_label, data: data.registrations.courses, backgroundColor: "#2f5d50" },
          { label: data.registrations.event_label, data: data.registrations.events, backgroundColor: "#d97706" }
        ]
      },
      options: Object.assign({ scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }, common)
    });
  }
})();
