/* The client-side state and its render loop.

   - homes, devices (summaries), parsed specs, and the last reading of every property.
   - Live updates land in `pending` (the latest value per property wins); one
     requestAnimationFrame flush applies them and calls only the listeners of what changed.
     So 200+ messages a second cost one small DOM pass per frame, never a page re-render.
   - Pages subscribe through a Scope and drop every listener at once when they unmount.
   - window.__trilinkStats counts messages and renders and keeps the latency of the last
     frame: milliseconds from the oldest message it applied arriving to the DOM updated. */

export const stats = { messages: 0, renders: 0, lastLatencyMs: 0 };
window.__trilinkStats = stats;

export const state = {
  me: null, // {name, role, expires}
  homes: [],
  home: null, // the first home (location, timezone)
  homeRadiusM: 150,
  zones: [], // from GET /api/zones when the hub runs automations
  devices: new Map(), // did → summary (+ online)
  specs: new Map(), // did → parsed spec
  readings: new Map(), // "did|s.p" → {value, ts}
  hubOffset: null, // hub clock − browser clock, seconds
};

export const keyOf = (did, siid, piid) => `${did}|${siid}.${piid}`;

// listeners: key → Set(fn(value, ts, key)); device listeners: did → Set(fn(did)); "*" → Set(fn())
const propListeners = new Map();
const deviceListeners = new Map();
const anyListeners = new Set();

let pending = new Map(); // key → {did, value, ts}
let pendingAvail = new Map(); // did → online
let oldestPending = 0;
let frameRequested = false;

function hubSeen(ts) {
  if (typeof ts !== "number") return;
  const offset = ts - Date.now() / 1000;
  if (state.hubOffset === null || offset > state.hubOffset) state.hubOffset = offset;
}

/** The hub's clock now, in epoch seconds (its clock may run ahead, e.g. a simulated world). */
export function hubNow() {
  return Date.now() / 1000 + (state.hubOffset || 0);
}

export function reading(did, key) {
  return state.readings.get(`${did}|${key}`);
}

export function value(did, key) {
  const r = state.readings.get(`${did}|${key}`);
  return r ? r.value : undefined;
}

/** Replace what is known about one device's readings (from GET /api/devices/{did}). */
export function loadDetail(detail) {
  for (const r of detail.readings || []) {
    queue(detail.did, r.siid, r.piid, r.value, r.ts, false);
  }
  if (typeof detail.online === "boolean") queueAvailability(detail.did, detail.online, false);
}

function queue(did, siid, piid, value, ts, live) {
  const key = keyOf(did, siid, piid);
  // an older reading (a REST answer racing the live feed) never replaces a newer one
  const prev = pending.get(key) || state.readings.get(key);
  if (prev && typeof ts === "number" && typeof prev.ts === "number" && ts < prev.ts) return;
  if (live) hubSeen(ts);
  else if (typeof ts === "number") hubSeen(ts - 1); // a stored reading is at most as new as now
  pending.set(key, { did, value, ts });
  schedule();
}

function queueAvailability(did, online) {
  pendingAvail.set(did, online);
  schedule();
}

function schedule() {
  if (!oldestPending) oldestPending = performance.now();
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(flush);
}

/** Apply one kernel event from the WebSocket (or GET /api/events). */
export function applyEvent(event) {
  switch (event.kind) {
    case "property-changed":
      queue(event.did, event.siid, event.piid, event.value, event.ts, true);
      break;
    case "availability":
      hubSeen(event.ts);
      queueAvailability(event.did, event.online);
      break;
    default:
      hubSeen(event.ts);
  }
}

function flush() {
  frameRequested = false;
  const started = oldestPending;
  oldestPending = 0;
  const batch = pending;
  const avail = pendingAvail;
  pending = new Map();
  pendingAvail = new Map();
  if (!batch.size && !avail.size) return;
  const touched = new Set();
  for (const [key, r] of batch) {
    state.readings.set(key, { value: r.value, ts: r.ts });
    touched.add(r.did);
  }
  for (const [did, online] of avail) {
    const dev = state.devices.get(did);
    if (dev) dev.online = online;
    touched.add(did);
  }
  for (const [key, r] of batch) {
    const set = propListeners.get(key);
    if (set) for (const fn of set) safe(fn, r.value, r.ts, key);
  }
  for (const did of touched) {
    const set = deviceListeners.get(did);
    if (set) for (const fn of set) safe(fn, did);
  }
  for (const fn of anyListeners) safe(fn, touched);
  stats.renders += 1;
  if (started) stats.lastLatencyMs = Math.round((performance.now() - started) * 10) / 10;
}

function safe(fn, ...args) {
  try {
    fn(...args);
  } catch (err) {
    console.error(err);
  }
}

function addTo(map, key, fn) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
    if (!set.size) map.delete(key);
  };
}

/** A set of subscriptions a page or widget drops together. */
export class Scope {
  constructor() {
    this.offs = [];
  }
  /** fn(value, ts) whenever did's property "s.p" changes. */
  prop(did, propKey, fn) {
    this.offs.push(addTo(propListeners, `${did}|${propKey}`, fn));
  }
  /** fn(did) once per frame in which anything of did changed (readings or availability). */
  device(did, fn) {
    this.offs.push(addTo(deviceListeners, did, fn));
  }
  /** fn(touchedDids) once per frame in which anything changed. */
  any(fn) {
    anyListeners.add(fn);
    this.offs.push(() => anyListeners.delete(fn));
  }
  add(off) {
    this.offs.push(off);
  }
  dispose() {
    for (const off of this.offs.splice(0)) off();
  }
}

/** Forget everything about the home (on sign-out). */
export function resetState() {
  state.me = null;
  state.homes = [];
  state.home = null;
  state.zones = [];
  state.devices.clear();
  state.specs.clear();
  state.readings.clear();
  pending.clear();
  pendingAvail.clear();
}

/** Devices of a kind (the spec type's name, e.g. "electric-car"), in list order. */
export function devicesOfKind(kind) {
  return [...state.devices.values()].filter((d) => d.kind === kind);
}
