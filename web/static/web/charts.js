// Charts of the home pages, drawn from the JSON the server put beside each chart (json_script).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  var palette = ["#1763b6", "#c0392b", "#1e7d45", "#b7791f", "#6b46c1"];
  // No animation for readers who ask for less motion (and for the README's screenshots, taken so).
  var animation = !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  document.querySelectorAll(".target-chart").forEach(function (el) {
    var data = JSON.parse(el.parentElement.nextElementSibling.textContent);
    echarts.init(el).setOption({
      animation: animation, color: palette, tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 10, right: 40, top: 30, bottom: 10, containLabel: true },
      xAxis: { type: "value" }, yAxis: { type: "category", data: data.labels, inverse: true },
      series: [
        { name: el.dataset.actualLabel || "实际", type: "bar", data: data.actual, label: { show: true, position: "right" } },
        { name: el.dataset.targetLabel || "目标", type: "bar", data: data.target, itemStyle: { opacity: 0.35 } }
      ]
    });
  });
  var funnel = document.getElementById("funnel-chart");
  if (funnel) {
    var steps = JSON.parse(document.getElementById("funnel-data").textContent).steps;
    echarts.init(funnel).setOption({
      animation: animation, color: palette, tooltip: { trigger: "item" },
      series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%", data: steps,
                 label: { formatter: "{b}: {c}" } }]
    });
  }
});
