// Dashboard charts, drawn with the vendored Chart.js (static/vendor/chart.umd.min.js).
// The data comes from <script type="application/json"> tags written by Django's
// json_script filter: never executed, so the strict Content Security Policy allows them.
// Each chart has a table of the same numbers next to it for screen readers and keyboards.
(function () {
  "use strict";

  var palette = {
    primary: "#0b5ed7",
    employer: "#1f5f99",
    hire: "#d9822b",
    grid: "rgba(0, 0, 0, 0.08)",
    text: "#343a40"
  };

  function readData(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source) {
      return null;
    }
    try {
      return JSON.parse(source.textContent);
    } catch (error) {
      return null;
    }
  }

  function money(value) {
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 });
  }

  function baseOptions() {
    var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 400 },
      plugins: { legend: { labels: { color: palette.text } } },
      scales: {
        x: { grid: { display: false }, ticks: { color: palette.text } },
        y: { beginAtZero: true, grid: { color: palette.grid }, ticks: { color: palette.text } }
      }
    };
  }

  var builders = {
    cohort: function (data) {
      var options = baseOptions();
      options.plugins.legend.display = false;
      options.scales.y.max = 100;
      options.scales.y.ticks.callback = function (value) { return value + "%"; };
      options.plugins.tooltip = {
        callbacks: {
          label: function (context) {
            var assignments = data.assignments[context.dataIndex];
            if (context.raw === null) {
              return "No hires with training this month";
            }
            return context.raw + "% of " + assignments + " assignments completed or waived";
          }
        }
      };
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [{
            label: "Completed or waived (%)",
            data: data.percent,
            backgroundColor: palette.primary,
            borderRadius: 4,
            // A month whose hires have done nothing yet (0%) shows a sliver; a month
            // without hires (null) shows nothing, so the two no longer look alike.
            minBarLength: 4
          }]
        },
        options: options
      };
    },
    outcomes: function (data) {
      // Average change in rating, day 90 minus baseline: hires who took the course
      // beside comparable hires who did not. Only courses with enough hires in both.
      var options = baseOptions();
      options.indexAxis = "y";
      options.scales.x.grid = { color: palette.grid };
      options.scales.y.grid = { display: false };
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: "Took the course", data: data.took, backgroundColor: palette.employer, borderRadius: 2 },
            { label: "Comparable hires who did not", data: data.others, backgroundColor: palette.hire, borderRadius: 2 }
          ]
        },
        options: options
      };
    },
    ramp: function (data) {
      // Ratings per check-in as bars, the role's expected level as a marker per competency.
      var options = baseOptions();
      options.scales.y.min = 0;
      options.scales.y.max = 4;
      options.scales.y.ticks.stepSize = 1;
      var shades = ["#9ec5fe", "#6ea8fe", "#3d8bfd", "#0b5ed7"];
      var datasets = data.series.map(function (series, index) {
        return { type: "bar", label: series.label, data: series.data, backgroundColor: shades[index % shades.length], borderRadius: 2 };
      });
      datasets.push({
        type: "line",
        label: "Expected by day 90",
        data: data.expected,
        showLine: false,
        pointStyle: "line",
        pointRadius: 14,
        pointBorderWidth: 3,
        borderColor: "#d63384",
        backgroundColor: "#d63384"
      });
      return { type: "bar", data: { labels: data.labels, datasets: datasets }, options: options };
    },
    tuition: function (data) {
      var options = baseOptions();
      options.scales.x.stacked = true;
      options.scales.y.stacked = true;
      options.scales.y.ticks.callback = function (value) { return money(value); };
      options.plugins.tooltip = {
        callbacks: {
          label: function (context) {
            return context.dataset.label + ": " + money(context.raw) + " " + data.currency;
          }
        }
      };
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: "Employer-paid", data: data.employer, backgroundColor: palette.employer, borderRadius: 2 },
            { label: "Hire-paid", data: data.hire, backgroundColor: palette.hire, borderRadius: 2 }
          ]
        },
        options: options
      };
    }
  };

  function draw() {
    if (typeof window.Chart === "undefined") {
      return; // The tables still carry the numbers.
    }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = builders[canvas.dataset.chart];
      var data = readData(canvas);
      if (build && data) {
        // eslint-disable-next-line no-new
        new window.Chart(canvas, build(data));
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
