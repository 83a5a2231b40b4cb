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
      // Completion rates by year, one line per target, 100 % marked; the tooltip gives the counts.
      var escape = echarts.format.encodeHTML;
      return {
        tooltip: {trigger: "axis", formatter: function (items) {
          var lines = [escape(String(items[0].axisValue))];
          items.forEach(function (item) {
            var point = item.data;
            if (!point || point.value === null) { return; }
            lines.push(item.marker + escape(item.seriesName) + ": " + point.value + "% (" +
                       point.actual.toLocaleString() + " / " + point.target.toLocaleString() + ")");
          });
          return lines.join("<br>");
        }},
        legend: {type: "scroll", top: 0},
        grid: {left: 60, right: 50, top: 50, bottom: 30},
        xAxis: {type: "category", data: d.years},
        // Up to 100 % at least, so the 100 % mark shows however far behind every target is.
        yAxis: {type: "value", name: d.axis, nameLocation: "middle", nameGap: 45, axisLabel: {formatter: "{value}%"},
                max: function (range) { return Math.max(100, Math.ceil(range.max / 25) * 25); }},
        series: d.series.map(function (s, index) {
          var line = {name: s.name, type: "line", data: s.data, symbolSize: 8};
          if (index === 0) {
            line.markLine = {silent: true, symbol: "none", data: [{yAxis: 100}], label: {formatter: "100%"},
                             lineStyle: {type: "dashed", color: "#888"}};
          }
          return line;
        })
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
