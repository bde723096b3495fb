/* Car: the electric car (the device whose spec type is electric-car).
   - battery: state of charge and range; charging state and power; a progress bar toward
     the charge limit (aria-valuenow = state of charge) and when charging will finish
     (the hub's clock + time-to-full, shown in the home's time zone)
   - where: distance from home (haversine from the car's latitude/longitude to the home's
     location) and its recent track drawn as an SVG polyline from the stored history of
     latitude and longitude paired by time, home marked; no map tiles
   - cabin climate and doors, with the same controls as on the Home page
   With more than one car, ?did= picks one (a selector is shown). */

import { h, s, meter, setText, nextId } from "../dom.js";
import { api } from "../api.js";
import { state, Scope, hubNow, devicesOfKind } from "../store.js";
import { propertyRow, actionRow } from "../controls.js";
import { onlineBadge, visibleProps } from "../card.js";
import { prop, val, choice, distanceFromHome, homeOf, isDriving, formatClock, formatMinutes } from "../model.js";
import { fitProjection, formatDistance } from "../geo.js";
import { formatValue } from "../spec.js";

const TRACK_HOURS = 24;
const W = 600;
const H = 340;

function row(device, scope, service, name) {
  const p = prop(device.did, service, name);
  return p ? propertyRow(device, p, scope) : null;
}

function actions(device, spec, scope, service) {
  const list = spec.actions.filter((a) => a.service === service);
  return list.length ? actionRow(device, list, spec, scope) : [];
}

/** Pair latitude and longitude samples by time into [lat, lon] points, oldest first. */
export function pairTrack(lats, lons, window = 2) {
  const events = [];
  for (const p of lats) events.push([p.ts, 0, p.value]);
  for (const p of lons) events.push([p.ts, 1, p.value]);
  events.sort((a, b) => a[0] - b[0]);
  const points = [];
  let lat = null;
  let lon = null;
  for (let i = 0; i < events.length; i += 1) {
    const [ts, which, v] = events[i];
    if (typeof v !== "number") continue;
    if (which === 0) lat = v;
    else lon = v;
    const next = events[i + 1];
    if (lat !== null && lon !== null && (!next || next[0] - ts > window)) {
      const last = points[points.length - 1];
      if (!last || last[0] !== lat || last[1] !== lon) points.push([lat, lon, ts]);
    }
  }
  return points;
}

function downsample(points, max = 1500) {
  if (points.length <= max) return points;
  const step = points.length / max;
  const out = [];
  for (let i = 0; i < max; i += 1) out.push(points[Math.floor(i * step)]);
  out.push(points[points.length - 1]);
  return out;
}

function trackView(device, scope) {
  const home = homeOf(device);
  const titleId = nextId("trk");
  const title = s("title", { id: titleId }, "The car's recent track");
  const zone = s("circle", { class: "home", opacity: "0.18" });
  const line = s("polyline", { class: "trk" });
  const homeDot = s("circle", { class: "home", r: "7" });
  const homeLabel = s("text", { "text-anchor": "middle" }, "Home");
  const carDot = s("circle", { class: "car", r: "7" });
  const svg = s("svg", { class: "track-svg", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId,
    "data-testid": "car-track", preserveAspectRatio: "xMidYMid meet" },
  title, zone, line, homeDot, homeLabel, carDot);
  const note = h("p", { class: "muted small", "data-testid": "car-track-note" }, "Loading the track…");
  let points = [];
  let timer = null;
  let across = "";

  const draw = () => {
    timer = null;
    const shown = downsample(points);
    const anchors = shown.map((p) => [p[0], p[1]]);
    if (home && home.latitude != null) anchors.push([home.latitude, home.longitude]);
    if (!anchors.length) return;
    const proj = fitProjection(anchors, W, H);
    line.setAttribute("points", shown.map(([la, lo]) => `${proj.x(la, lo).toFixed(1)},${proj.y(la, lo).toFixed(1)}`).join(" "));
    if (home && home.latitude != null) {
      const hx = proj.x(home.latitude, home.longitude);
      const hy = proj.y(home.latitude, home.longitude);
      for (const [el, x, y] of [[homeDot, hx, hy], [zone, hx, hy]]) {
        el.setAttribute("cx", hx.toFixed(1));
        el.setAttribute("cy", hy.toFixed(1));
      }
      zone.setAttribute("r", ((state.homeRadiusM / proj.metresAcross) * W).toFixed(1));
      homeLabel.setAttribute("x", hx.toFixed(1));
      homeLabel.setAttribute("y", (hy - 12).toFixed(1));
    }
    const last = shown[shown.length - 1];
    carDot.hidden = !last;
    carDot.setAttribute("visibility", last ? "visible" : "hidden");
    if (last) {
      carDot.setAttribute("cx", proj.x(last[0], last[1]).toFixed(1));
      carDot.setAttribute("cy", proj.y(last[0], last[1]).toFixed(1));
    }
    across = `≈ ${formatDistance(proj.metresAcross)} across`;
    const dist = distanceFromHome(device.did);
    const words = `${device.name}: ${points.length} positions over the last ${TRACK_HOURS} h` +
      (Number.isFinite(dist) ? `, now ${formatDistance(dist)} from home` : "");
    setText(title, words);
    setText(note, points.length > 1 ? `${points.length} positions in the last ${TRACK_HOURS} h · ${across} · north is up`
      : `No movement stored in the last day · ${across}`);
  };
  const redraw = () => {
    if (!timer) timer = setTimeout(draw, 250);
  };
  scope.add(() => clearTimeout(timer));

  const latP = prop(device.did, "location", "latitude");
  const lonP = prop(device.did, "location", "longitude");
  if (latP && lonP) {
    const since = hubNow() - TRACK_HOURS * 3600;
    Promise.all([
      api.history(device.did, latP.siid, latP.piid, { since, limit: 10000 }),
      api.history(device.did, lonP.siid, lonP.piid, { since, limit: 10000 }),
    ]).then(([lats, lons]) => {
      points = pairTrack(lats, lons);
      draw();
    }).catch((err) => {
      setText(note, `The track could not be loaded: ${err.message}`);
      draw();
    });
    // live positions extend the track
    let liveLat = null;
    let liveLon = null;
    const onPos = () => {
      liveLat = val(device.did, "location", "latitude");
      liveLon = val(device.did, "location", "longitude");
      if (typeof liveLat !== "number" || typeof liveLon !== "number") return;
      const last = points[points.length - 1];
      if (!last || last[0] !== liveLat || last[1] !== liveLon) {
        points.push([liveLat, liveLon, hubNow()]);
        redraw();
      }
    };
    scope.prop(device.did, latP.key, onPos);
    scope.prop(device.did, lonP.key, onPos);
  } else {
    setText(note, "This car does not report its position.");
  }
  return h("div", {}, svg, note);
}

function batteryCard(device, spec, scope) {
  const did = device.did;
  const soc = h("span", { class: "big", "data-testid": "car-soc" });
  const range = h("span", { class: "muted", "data-testid": "car-range" });
  const stateEl = h("dd", { "data-testid": "car-charging-state" });
  const power = h("dd", { "data-testid": "car-charging-power" });
  const finish = h("dd", { "data-testid": "car-finish" });
  const energy = h("dd", { "data-testid": "car-session-energy" });
  const bar = meter({ class: "meter charge-bar", "data-testid": "car-charge-progress", "aria-label": "Charge toward the limit" });
  const limitMark = h("span", { class: "limit", "aria-hidden": "true" });
  bar.append(limitMark);

  const update = () => {
    const s = val(did, "traction-battery", "state-of-charge");
    const km = val(did, "traction-battery", "range");
    const limit = val(did, "charging", "charge-limit");
    const st = val(did, "charging", "charging-state");
    const minutes = val(did, "charging", "time-to-full");
    const charging = st === 2;
    soc.replaceChildren(typeof s === "number" ? s.toFixed(0) : "—", h("small", {}, " %"));
    setText(range, typeof km === "number" ? `${Math.round(km)} km range` : "");
    setText(stateEl, choice(did, "charging", "charging-state") ?? "—");
    setText(power, formatValue(prop(did, "charging", "charging-power"), val(did, "charging", "charging-power")));
    setText(energy, formatValue(prop(did, "charging", "session-energy"), val(did, "charging", "session-energy")));
    const lim = typeof limit === "number" ? limit : 100;
    if (typeof s === "number") {
      bar.update(Math.min(s, lim), lim, `${s.toFixed(0)} % of the ${lim} % limit`);
    }
    // the visible fill shows the whole battery; the mark shows the limit
    bar.firstChild.style.width = `${typeof s === "number" ? Math.max(0, Math.min(100, s)) : 0}%`;
    limitMark.style.left = `calc(${lim}% - 1px)`;
    if (charging && typeof minutes === "number") {
      setText(finish, minutes > 0 ? `${formatClock(hubNow() + minutes * 60, minutes > 12 * 60)} (in ${formatMinutes(minutes)})` : "any moment");
    } else if (st === 3) setText(finish, "Charged to the limit");
    else setText(finish, "Not charging");
  };
  update();
  scope.device(did, update);

  return h("section", { class: "card car-battery", "aria-labelledby": "car-battery-h" },
    h("h2", { id: "car-battery-h", class: "sr-only" }, "Battery and charging"),
    h("div", { class: "page-head" }, soc, range),
    bar,
    h("dl", { class: "kv" },
      h("dt", {}, "Charging"), stateEl,
      h("dt", {}, "Power"), power,
      h("dt", {}, "Full at"), finish,
      h("dt", {}, "This session"), energy),
    h("div", { class: "props" }, row(device, scope, "charging", "charge-limit"), ...actions(device, spec, scope, "charging")));
}

function whereCard(device, scope) {
  const did = device.did;
  const dist = h("span", { class: "big", "data-testid": "car-distance" });
  const motion = h("span", { class: "muted", "data-testid": "car-motion" });
  const update = () => {
    const m = distanceFromHome(did);
    dist.replaceChildren(Number.isFinite(m) ? formatDistance(m) : "—", h("small", {}, " from home"));
    const speed = val(did, "location", "speed");
    setText(motion, isDriving(did) ? `Driving${typeof speed === "number" ? ` · ${Math.round(speed)} km/h` : ""}` : "Parked");
  };
  update();
  scope.device(did, update);
  return h("section", { class: "card car-where", "aria-labelledby": "car-where-h" },
    h("h2", { id: "car-where-h", class: "sr-only" }, "Where the car is"),
    h("div", { class: "page-head" }, dist, motion),
    trackView(device, scope));
}

function cabinCard(device, spec, scope) {
  return h("section", { class: "card car-cabin", "aria-labelledby": "car-cabin-h" },
    h("h2", { id: "car-cabin-h" }, "Cabin and doors"),
    h("div", { class: "props" },
      row(device, scope, "cabin-climate", "temperature"),
      row(device, scope, "cabin-climate", "on"),
      row(device, scope, "cabin-climate", "target-temperature"),
      ...actions(device, spec, scope, "cabin-climate"),
      row(device, scope, "car-doors", "locked"),
      ...actions(device, spec, scope, "car-doors")));
}

function moreCard(device, spec, scope, shown) {
  const rest = visibleProps(spec).filter((p) => !shown.has(p.key));
  const other = spec.actions.filter((a) => !["charging", "cabin-climate", "car-doors"].includes(a.service));
  if (!rest.length && !other.length) return null;
  return h("section", { class: "card car-more" },
    h("details", { class: "more" }, h("summary", {}, "All readings"),
      h("div", { class: "props" }, rest.map((p) => propertyRow(device, p, scope)), ...actionRow(device, other, spec, scope))));
}

export function mount(main, { params }) {
  const scope = new Scope();
  const cars = devicesOfKind("electric-car");
  if (!cars.length) {
    main.append(h("h1", {}, "Car"), h("p", { class: "muted" }, "No electric car is connected to this hub."));
    return () => scope.dispose();
  }
  const device = cars.find((c) => c.did === params.get("did")) || cars[0];
  const spec = state.specs.get(device.did);
  const head = h("div", { class: "page-head" }, h("h1", {}, device.name), onlineBadge(device, scope));
  main.append(head);
  head.lastChild.update();
  if (cars.length > 1) {
    const id = nextId("car");
    const select = h("select", { id }, cars.map((c) => h("option", { value: c.did }, c.name)));
    select.value = device.did;
    select.addEventListener("change", () => { location.hash = `#/car?did=${encodeURIComponent(select.value)}`; });
    head.append(h("label", { for: id, class: "sr-only" }, "Car"), select);
  }
  if (!spec) {
    main.append(h("p", { class: "muted" }, "The hub has no description of this car."));
    return () => scope.dispose();
  }
  const shownKeys = new Set();
  for (const [service, name] of [["traction-battery", "state-of-charge"], ["traction-battery", "range"],
    ["charging", "charging-state"], ["charging", "charging-power"], ["charging", "charge-limit"],
    ["charging", "time-to-full"], ["charging", "session-energy"], ["location", "latitude"], ["location", "longitude"],
    ["location", "speed"], ["location", "driving-state"], ["cabin-climate", "temperature"], ["cabin-climate", "on"],
    ["cabin-climate", "target-temperature"], ["car-doors", "locked"]]) {
    const p = prop(device.did, service, name);
    if (p) shownKeys.add(p.key);
  }
  // one column on a phone in this order; on a wide screen the map sits on the right
  const more = moreCard(device, spec, scope, shownKeys);
  main.append(h("div", { class: "car-top" },
    batteryCard(device, spec, scope), whereCard(device, scope), cabinCard(device, spec, scope), more));
  return () => scope.dispose();
}
