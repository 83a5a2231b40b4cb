/* Charts of the analytics page: data comes from json_script blocks (escaped by Django). */
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var builders = {
    funnel: function (steps) {
      return {
        tooltip: {trigger: "item", formatter: "{b}: {c}"},
        series: [{type: "funnel", sort: "none", minSize: "8%", left: "10%", width: "80%", gap: 2,
                  label: {show: true, position: "inside", formatter: "{b}  {c}"}, data: steps}]
      };
    },
    targets: function (d) {
      var series = [];
      d.series.forEach(function (s) {
        series.push({name: s.name + " 目标", type: "line", data: s.target, lineStyle: {type: "dashed"}, connectNulls: true});
        series.push({name: s.name + " 实际", type: "bar", data: s.actual});
      });
      return {
        tooltip: {trigger: "axis"}, legend: {type: "scroll", top: 0},
        grid: {left: 50, right: 20, top: 40, bottom: 30},
        xAxis: {type: "category", data: d.years}, yAxis: {type: "value", name: "企业数"}, series: series
      };
    }
  };
  // No animation for readers who ask for less motion (and for the README's screenshots, taken so).
  var animation = !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = data(el.dataset.source);
      if (!source) { return; }
      var chart = echarts.init(el, null, {renderer: "svg"});
      var option = builders[el.dataset.chart](source);
      option.animation = animation;
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
    // Heat shading of matrix and cohort cells, relative to the table's largest value.
    document.querySelectorAll("table.matrix, table.cohort").forEach(function (table) {
      var cells = table.querySelectorAll("td.heat"), max = 0;
      cells.forEach(function (c) { max = Math.max(max, parseFloat(c.dataset.value) || 0); });
      cells.forEach(function (c) {
        var v = parseFloat(c.dataset.value) || 0;
        if (max > 0 && v > 0) { c.style.backgroundColor = "rgba(200, 16, 46, " + (0.08 + 0.5 * v / max).toFixed(2) + ")"; }
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
