/* Loads the vendored uPlot (script + stylesheet from /static/vendor/uplot/) the first time
   a chart is needed, and builds line-chart options in the current theme's colours. */

let loading = null;

/** Resolves to the uPlot constructor. */
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (loading) return loading;
  loading = new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/static/vendor/uplot/uPlot.min.css";
    document.head.append(css);
    const script = document.createElement("script");
    script.src = "/static/vendor/uplot/uPlot.iife.min.js";
    script.onload = () => (window.uPlot ? resolve(window.uPlot) : reject(new Error("uPlot did not load")));
    script.onerror = () => {
      loading = null;
      script.remove();
      reject(new Error("the chart library could not be loaded"));
    };
    document.head.append(script);
  });
  return loading;
}

export function themeColours() {
  const css = getComputedStyle(document.documentElement);
  const get = (name) => css.getPropertyValue(name).trim();
  return { text: get("--muted"), grid: get("--chart-grid"), one: get("--chart-1"), two: get("--chart-2") };
}

/**
 * Options for a time chart.
 * series: [{label, unit, format(v) → text, stepped}], tz: IANA zone for the time axis.
 */
export function lineOptions(uPlot, { width, height, series, tz, yLabel }) {
  const c = themeColours();
  const axis = { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
  const colours = [c.one, c.two];
  const opts = {
    width,
    height,
    scales: { x: { time: true } },
    axes: [{ ...axis }, { ...axis, label: yLabel || "", size: 60, labelSize: 20 }],
    legend: { live: true },
    cursor: { points: { size: 8 } },
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: colours[i % colours.length],
        width: 2,
        spanGaps: true,
        dash: s.stepped ? [6, 4] : undefined,
        paths: s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: false },
        value: (u, v) => (v === null || v === undefined ? "—" : s.format(v)),
      })),
    ],
  };
  if (tz) {
    try {
      uPlot.tzDate(new Date(), tz);
      opts.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), tz);
    } catch {
      /* unknown zone: the browser's own */
    }
  }
  return opts;
}
