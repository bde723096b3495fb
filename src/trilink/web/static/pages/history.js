/* History: a device, one of its numeric properties and a range (hour, day, week) → a
   uPlot line chart of GET /api/devices/{did}/history/{s.p}?since=…&limit=10000, where
   since is the hub's clock minus the range. For a room's temperature (a property named
   temperature, in a room with an air conditioner) the AC's target temperature is drawn
   as a second, stepped series. New readings extend the chart live (redrawn at most once
   a second). The choice is kept in the address (#/history?did=…&prop=…&range=…). */

import { h, nextId, setText } from "../dom.js";
import { api } from "../api.js";
import { state, Scope, hubNow, value as readingValue } from "../store.js";
import { loadUPlot, lineOptions } from "../charts.js";
import { formatValue, unitSymbol } from "../spec.js";
import { prop as findProp } from "../model.js";

const RANGES = { hour: 3600, day: 86400, week: 7 * 86400 };
const LIMIT = 10000;

function chartable(did) {
  const spec = state.specs.get(did);
  if (!spec) return [];
  return [...spec.props.values()].filter((p) => p.numeric && p.readable && p.siid !== 1 && p.unit !== "rgb");
}

function roomName(id) {
  const room = state.home && state.home.rooms.find((r) => r.id === id);
  return room ? room.name : id || "Not in a room";
}

function defaultChoice() {
  // a room sensor's temperature where the room has an AC shows both series straight away
  const devices = [...state.devices.values()];
  const acRooms = new Set(devices.filter((d) => d.kind === "air-conditioner").map((d) => d.room_id));
  const sensor = devices.find((d) => d.kind === "temperature-humidity-sensor" && acRooms.has(d.room_id))
    || devices.find((d) => chartable(d.did).some((p) => p.name === "temperature"))
    || devices.find((d) => chartable(d.did).length);
  if (!sensor) return null;
  const props = chartable(sensor.did);
  const p = props.find((x) => x.name === "temperature") || props[0];
  return { did: sensor.did, prop: p.key };
}

/** The AC whose target temperature belongs next to this property, or null. */
function companionOf(did, p) {
  if (p.name !== "temperature" || p.unit !== "celsius") return null;
  const device = state.devices.get(did);
  if (!device) return null;
  if (device.kind === "air-conditioner") {
    const t = findProp(did, "air-conditioner", "target-temperature");
    return t ? { did, prop: t, name: device.name } : null;
  }
  if (!device.room_id) return null;
  const ac = [...state.devices.values()].find((d) => d.kind === "air-conditioner" && d.room_id === device.room_id);
  if (!ac) return null;
  const t = findProp(ac.did, "air-conditioner", "target-temperature");
  return t ? { did: ac.did, prop: t, name: ac.name } : null;
}

/** Merge series of {ts, value} into uPlot's aligned columns. */
function align(seriesPoints) {
  const xs = [...new Set(seriesPoints.flatMap((pts) => pts.map((p) => p.ts)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const cols = seriesPoints.map((pts) => {
    const col = new Array(xs.length).fill(null);
    for (const p of pts) if (typeof p.value === "number") col[index.get(p.ts)] = p.value;
    return col;
  });
  return [xs, ...cols];
}

export function mount(main, { params }) {
  const scope = new Scope();
  const fallback = defaultChoice();
  let did = state.devices.has(params.get("did")) ? params.get("did") : fallback && fallback.did;
  let propKey = params.get("prop") || (fallback && did === fallback.did ? fallback.prop : null);
  let range = RANGES[params.get("range")] ? params.get("range") : "day";

  main.append(h("div", { class: "page-head" }, h("h1", {}, "History")));
  if (!did) {
    main.append(h("p", { class: "muted" }, "No device reports numbers to chart yet."));
    return () => scope.dispose();
  }

  // ---- toolbar
  const devId = nextId("h");
  const propId = nextId("h");
  const devSelect = h("select", { id: devId, "data-testid": "history-device" });
  const groups = new Map();
  for (const d of state.devices.values()) {
    if (!chartable(d.did).length) continue;
    const name = roomName(d.room_id);
    if (!groups.has(name)) groups.set(name, h("optgroup", { label: name }));
    groups.get(name).append(h("option", { value: d.did }, d.name));
  }
  devSelect.append(...groups.values());
  const propSelect = h("select", { id: propId, "data-testid": "history-property" });
  const rangeName = nextId("range");
  const rangeBox = h("fieldset", { class: "field", "data-testid": "history-range" },
    h("legend", {}, "Range"),
    h("div", { class: "segmented" }, Object.keys(RANGES).map((r) =>
      h("label", {}, h("input", { type: "radio", name: rangeName, value: r, checked: r === range, "data-testid": `history-range-${r}` }),
        h("span", {}, r[0].toUpperCase() + r.slice(1))))));
  main.append(h("div", { class: "toolbar" },
    h("div", { class: "field" }, h("label", { for: devId }, "Device"), devSelect),
    h("div", { class: "field" }, h("label", { for: propId }, "Reading"), propSelect),
    rangeBox));

  // ---- chart
  const chartBox = h("div", { class: "chart" });
  const caption = h("figcaption", { class: "chart-summary muted small", "data-testid": "history-summary" });
  const status = h("p", { class: "muted", role: "status" });
  const figure = h("figure", { class: "card", "data-testid": "history-chart" }, chartBox, caption, status);
  main.append(figure);

  let chart = null;
  let series = []; // [{did, prop, label, points: [{ts, value}], stepped}]
  let loadToken = 0;
  let redrawTimer = null;
  let liveScope = new Scope();
  scope.add(() => liveScope.dispose());
  scope.add(() => clearTimeout(redrawTimer));

  let propName = null; // kept when another device is picked (temperature → temperature)
  const fillProps = () => {
    const props = chartable(did);
    propSelect.replaceChildren(...props.map((p) =>
      h("option", { value: p.key }, `${p.description}${p.unit && unitSymbol(p.unit) ? ` (${unitSymbol(p.unit)})` : ""}`)));
    if (!props.some((p) => p.key === propKey)) {
      const same = propName && props.find((p) => p.name === propName);
      propKey = (same || props.find((p) => p.name === "temperature") || props[0]).key;
    }
    propName = props.find((p) => p.key === propKey).name;
    propSelect.value = propKey;
  };

  const remember = () => {
    window.history.replaceState(null, "", `#/history?did=${encodeURIComponent(did)}&prop=${propKey}&range=${range}`);
  };

  const width = () => Math.max(280, chartBox.clientWidth || main.clientWidth - 32);
  const height = () => (window.innerWidth < 640 ? 240 : 320);

  const summarize = () => {
    const main0 = series[0];
    const nums = main0.points.map((p) => p.value).filter((v) => typeof v === "number");
    const fmt = (v) => formatValue(main0.prop, v);
    let text = `${main0.label} over the last ${range}: `;
    if (!nums.length) text += "no samples stored.";
    else {
      text += `${nums.length} samples, lowest ${fmt(Math.min(...nums))}, highest ${fmt(Math.max(...nums))}, latest ${fmt(nums[nums.length - 1])}.`;
    }
    if (series[1]) text += ` Dashed: ${series[1].label}.`;
    if (main0.points.length >= LIMIT) text += ` Showing the newest ${LIMIT} samples.`;
    setText(caption, text);
    figure.setAttribute("aria-label", text);
  };

  const draw = async () => {
    const uPlot = await loadUPlot();
    if (chart) chart.destroy();
    chart = null;
    chartBox.replaceChildren();
    const main0 = series[0];
    const opts = lineOptions(uPlot, {
      width: width(),
      height: height(),
      tz: state.home && state.home.timezone,
      yLabel: unitSymbol(main0.prop.unit),
      series: series.map((s) => ({ label: s.label, stepped: s.stepped, format: (v) => formatValue(s.prop, v) })),
    });
    chart = new uPlot(opts, align(series.map((s) => s.points)), chartBox);
  };

  const setData = () => {
    redrawTimer = null;
    if (!chart) return;
    const since = hubNow() - RANGES[range];
    for (const s of series) {
      // keep the value in force at the window's start for stepped lines
      let cut = 0;
      while (cut < s.points.length - 1 && s.points[cut + 1].ts < since) cut += 1;
      if (cut > 0) s.points.splice(0, cut);
    }
    chart.setData(align(series.map((s) => s.points)));
    summarize();
  };

  const load = async () => {
    const token = ++loadToken;
    remember();
    liveScope.dispose();
    liveScope = new Scope();
    const device = state.devices.get(did);
    const p = state.specs.get(did).props.get(propKey);
    const companion = companionOf(did, p);
    const since = hubNow() - RANGES[range];
    setText(status, "Loading…");
    try {
      const requests = [api.history(did, p.siid, p.piid, { since, limit: LIMIT })];
      if (companion) {
        const t = companion.prop;
        requests.push(api.history(companion.did, t.siid, t.piid, { since, limit: LIMIT }));
        requests.push(api.history(companion.did, t.siid, t.piid, { until: since, limit: 1 }));
      }
      const [points, targetPoints, before] = await Promise.all(requests);
      if (token !== loadToken) return;
      series = [{ did, prop: p, label: `${device.name} · ${p.description}`, points, stepped: !!p.list }];
      if (companion) {
        const t = companion.prop;
        const pts = [...(before || []).map((b) => ({ ts: since, value: b.value })), ...targetPoints];
        const now = readingValue(companion.did, t.key);
        if (typeof now === "number") pts.push({ ts: hubNow(), value: now });
        series.push({ did: companion.did, prop: t, label: `${companion.name} · ${t.description}`, points: pts, stepped: true, extendToNow: true });
      }
      await draw();
      if (token !== loadToken) return;
      summarize();
      setText(status, points.length ? "" : "Nothing stored for this range yet; new readings appear as they arrive.");
    } catch (err) {
      if (token !== loadToken) return;
      setText(status, `The history could not be loaded: ${err.message}`);
      return;
    }
    // live samples extend the series
    for (const s of series) {
      liveScope.prop(s.did, s.prop.key, (v, ts) => {
        if (typeof v !== "number") return;
        const at = typeof ts === "number" ? ts : hubNow();
        if (s.extendToNow && s.points.length) {
          const last = s.points[s.points.length - 1];
          if (last.value === v) {
            last.ts = Math.max(last.ts, at);
            return schedule();
          }
        }
        const last = s.points[s.points.length - 1];
        if (!last || at > last.ts) s.points.push({ ts: at, value: v });
        schedule();
      });
    }
  };

  const schedule = () => {
    if (!redrawTimer) redrawTimer = setTimeout(setData, 1000);
  };

  devSelect.value = did;
  fillProps();
  devSelect.addEventListener("change", () => {
    did = devSelect.value;
    propKey = null;
    fillProps();
    load();
  });
  propSelect.addEventListener("change", () => {
    propKey = propSelect.value;
    propName = state.specs.get(did).props.get(propKey).name;
    load();
  });
  rangeBox.addEventListener("change", (ev) => {
    if (ev.target.name !== rangeName) return;
    range = ev.target.value;
    load();
  });

  let lastWidth = 0;
  const resize = new ResizeObserver(() => {
    const w = width();
    if (chart && w !== lastWidth) chart.setSize({ width: w, height: height() });
    lastWidth = w;
  });
  resize.observe(chartBox);
  const retheme = () => {
    if (chart) draw();
  };
  window.addEventListener("trilink-theme", retheme);
  scope.add(() => {
    resize.disconnect();
    window.removeEventListener("trilink-theme", retheme);
    loadToken += 1;
    if (chart) chart.destroy();
  });

  load();
  return () => scope.dispose();
}
