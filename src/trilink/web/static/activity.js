/* The live activity strip shown on every page: a row of dark "island" chips, one per
   ongoing thing, each updated in place when its device changes:
     - a car charging: state of charge toward its charge limit, and when it will be done
     - a car driving: speed and distance from home
     - a robot vacuum at work: its status, area and time
     - an AC bringing its room to temperature: room temperature toward the target
   Chips appear and disappear as things start and stop; the change is announced politely
   to screen readers (the numbers themselves are not, they change too often). */

import { h, icon, meter, setText, announce } from "./dom.js";
import { state, Scope, hubNow } from "./store.js";
import { val, choice, prop, distanceFromHome, isDriving, formatClock, formatMinutes } from "./model.js";
import { formatDistance } from "./geo.js";
import { formatValue } from "./spec.js";

const ICONS = {
  charge: "M13 2L4 14h7l-1 8 9-12h-7z",
  drive: "M5 16h14M6 16l1.5-5.5A2 2 0 0 1 9.4 9h5.2a2 2 0 0 1 1.9 1.5L18 16v3h-2v-2H8v2H6z",
  vacuum: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8",
  cool: "M12 2v20M4.9 6.9l14.2 10.2M19.1 6.9L4.9 17.1",
  heat: "M12 3c3 4 5 6 5 10a5 5 0 0 1-10 0c0-2 1-4 2-5c0 2 1 3 2 3c0-3-1-5 1-8z",
};

const VACUUM_BUSY = new Set(["sweeping", "cleaning", "paused", "returning", "go charging", "mopping"]);

/** What each kind of device may show: a list of [id, compute(did) → chip data | null]. */
function activitiesOf(device) {
  const did = device.did;
  switch (device.kind) {
    case "electric-car":
      return [
        ["charging", () => carCharging(did, device)],
        ["driving", () => carDriving(did, device)],
      ];
    case "vacuum":
      return [["vacuum", () => vacuum(did, device)]];
    case "air-conditioner":
      return [["ac", () => airCon(did, device)]];
    default:
      return [];
  }
}

function carCharging(did, device) {
  const st = val(did, "charging", "charging-state");
  const label = choice(did, "charging", "charging-state");
  if (!(st === 2 || String(label).toLowerCase() === "charging")) return null;
  const soc = val(did, "traction-battery", "state-of-charge");
  const limit = val(did, "charging", "charge-limit");
  const minutes = val(did, "charging", "time-to-full");
  const power = val(did, "charging", "charging-power");
  const socText = typeof soc === "number" ? `${soc.toFixed(0)} %` : "—";
  const limitText = typeof limit === "number" ? `${limit} %` : "limit";
  const parts = [`${socText} → ${limitText}`];
  if (typeof minutes === "number" && minutes > 0) parts.push(`done ${formatClock(hubNow() + minutes * 60)}`);
  if (typeof power === "number") parts.push(formatValue(prop(did, "charging", "charging-power"), power));
  return {
    icon: ICONS.charge,
    title: `${device.name} charging`,
    detail: parts.join(" · "),
    progress: typeof soc === "number" ? { now: soc, max: typeof limit === "number" ? limit : 100,
      text: `${socText} of ${limitText}${typeof minutes === "number" ? ", " + formatMinutes(minutes) + " left" : ""}` } : null,
    said: `${device.name} is charging`,
  };
}

function carDriving(did, device) {
  if (!isDriving(did)) return null;
  const speed = val(did, "location", "speed");
  const dist = distanceFromHome(did);
  const parts = [];
  if (typeof speed === "number") parts.push(`${Math.round(speed)} km/h`);
  if (Number.isFinite(dist)) parts.push(`${formatDistance(dist)} from home`);
  return { icon: ICONS.drive, title: `${device.name} driving`, detail: parts.join(" · ") || "on the road", said: `${device.name} is driving` };
}

function vacuum(did, device) {
  const status = choice(did, "vacuum", "status");
  if (status === undefined || !VACUUM_BUSY.has(String(status).toLowerCase())) return null;
  const area = val(did, "vacuum", "cleaning-area");
  const time = val(did, "vacuum", "cleaning-time");
  const parts = [];
  if (typeof area === "number") parts.push(`${area.toFixed(1)} m²`);
  if (typeof time === "number") parts.push(formatMinutes(time));
  return {
    icon: ICONS.vacuum,
    title: `${device.name}: ${status}`,
    detail: parts.join(" · ") || "at work",
    progress: { indeterminate: String(status).toLowerCase() !== "paused", text: String(status) },
    said: `${device.name} is ${String(status).toLowerCase()}`,
  };
}

// where each AC started from, so progress reads "how much of the way to the target"
const acStart = new Map(); // did → {from, target}

function airCon(did, device) {
  const on = val(did, "air-conditioner", "on");
  const target = val(did, "air-conditioner", "target-temperature");
  const room = val(did, "environment", "temperature");
  if (on !== true || typeof target !== "number" || typeof room !== "number" || Math.abs(room - target) < 0.3) {
    acStart.delete(did);
    return null;
  }
  let start = acStart.get(did);
  if (!start || start.target !== target || Math.abs(room - target) > Math.abs(start.from - target)) {
    start = { from: room, target };
    acStart.set(did, start);
  }
  const cooling = room > target;
  const span = Math.abs(start.from - target);
  const done = span > 0 ? Math.abs(start.from - room) : 0;
  const roomName = (state.home && state.home.rooms.find((r) => r.id === device.room_id) || {}).name || device.name;
  return {
    icon: cooling ? ICONS.cool : ICONS.heat,
    title: `${roomName}: ${cooling ? "cooling" : "heating"}`,
    detail: `${room.toFixed(1)} → ${target.toFixed(1)} °C`,
    progress: { now: done, max: span || 1, text: `${room.toFixed(1)} °C, target ${target.toFixed(1)} °C` },
    said: `${device.name} is ${cooling ? "cooling" : "heating"} ${roomName} to ${target} °C`,
  };
}

function chip(id, data) {
  const iconEl = icon(data.icon);
  const title = h("span", { class: "chip-title" });
  const detail = h("span", { class: "chip-detail" });
  const bar = meter({ "aria-label": "progress" });
  const el = h("div", { class: "chip", role: "group", "data-testid": `activity-${id}` }, iconEl, title, detail, bar);
  el.update = (d) => {
    setText(title, d.title);
    setText(detail, d.detail);
    el.setAttribute("aria-label", `${d.title}, ${d.detail}`);
    bar.setAttribute("aria-label", d.title);
    const p = d.progress;
    bar.hidden = !p;
    if (p) {
      bar.classList.toggle("indeterminate", !!p.indeterminate);
      if (p.indeterminate) {
        bar.removeAttribute("aria-valuenow");
        bar.setAttribute("aria-valuetext", p.text);
      } else bar.update(p.now, p.max, p.text);
    }
  };
  el.update(data);
  return el;
}

/** Fill `root` with the strip; returns a dispose function. */
export function mountActivity(root) {
  const scope = new Scope();
  const chips = new Map(); // id → element
  const empty = h("p", { class: "island-empty" }, "Nothing going on right now");
  root.replaceChildren(empty);
  let first = true;

  const refresh = (device) => {
    for (const [kind, compute] of activitiesOf(device)) {
      const id = `${kind}-${device.did}`;
      const data = device.online === false ? null : compute();
      let el = chips.get(id);
      if (data && !el) {
        el = chip(id, data);
        chips.set(id, el);
        root.append(el);
        if (!first) announce(data.said);
      } else if (data && el) {
        el.update(data);
      } else if (!data && el) {
        el.remove();
        chips.delete(id);
        if (!first) announce(`${device.name}: ${kind === "charging" ? "charging stopped" : "done"}`);
      }
    }
    empty.hidden = chips.size > 0;
  };

  for (const device of state.devices.values()) {
    if (!activitiesOf(device).length) continue;
    refresh(device);
    scope.device(device.did, () => refresh(state.devices.get(device.did) || device));
  }
  first = false;
  empty.hidden = chips.size > 0;
  return () => scope.dispose();
}
