/* Named look-ups over the device model: find a device's property by service and property
   names (so the pages work for any spec that uses the same names, whatever its iids),
   read its value, and the home and people facts the Car, People and activity views share. */

import { findProp } from "./spec.js";
import { state, value } from "./store.js";
import { haversine } from "./geo.js";

/** The property spec of did by service and name, or null. */
export function prop(did, service, name) {
  const spec = state.specs.get(did);
  return spec ? findProp(spec, service, name) : null;
}

/** The last value of did's property service/name (undefined if none). */
export function val(did, service, name) {
  const p = prop(did, service, name);
  return p ? value(did, p.key) : undefined;
}

/** The description of a value-list value ("Charging"), or the value. */
export function choice(did, service, name) {
  const p = prop(did, service, name);
  if (!p) return undefined;
  const v = value(did, p.key);
  const c = p.list && p.list.find((x) => x.value === v);
  return c ? c.description : v;
}

export function homeOf(device) {
  return state.homes.find((home) => home.id === (device && device.home_id)) || state.home;
}

/** Metres from did's location (service "location", latitude/longitude) to its home, or NaN. */
export function distanceFromHome(did) {
  const device = state.devices.get(did);
  const home = homeOf(device);
  const lat = val(did, "location", "latitude");
  const lon = val(did, "location", "longitude");
  if (!home || typeof lat !== "number" || typeof lon !== "number" || home.latitude == null) return NaN;
  return haversine(lat, lon, home.latitude, home.longitude);
}

/** Whether the car is moving (driving-state 1, or a speed above walking pace when no state). */
export function isDriving(carDid) {
  const ds = val(carDid, "location", "driving-state");
  if (typeof ds === "number") return ds === 1;
  const speed = val(carDid, "location", "speed");
  return typeof speed === "number" && speed > 5;
}

/** A time in the home's time zone, e.g. "14:35" (with the weekday when not today). */
export function formatClock(epochSeconds, withDay = false) {
  const tz = state.home && state.home.timezone;
  const opts = { hour: "2-digit", minute: "2-digit", ...(withDay ? { weekday: "short" } : {}) };
  try {
    return new Intl.DateTimeFormat(undefined, { ...opts, timeZone: tz || undefined }).format(new Date(epochSeconds * 1000));
  } catch {
    return new Intl.DateTimeFormat(undefined, opts).format(new Date(epochSeconds * 1000));
  }
}

/** A date and time in the home's time zone. */
export function formatDateTime(epochSeconds) {
  const tz = state.home && state.home.timezone;
  const opts = { dateStyle: "medium", timeStyle: "medium" };
  try {
    return new Intl.DateTimeFormat(undefined, { ...opts, timeZone: tz || undefined }).format(new Date(epochSeconds * 1000));
  } catch {
    return new Date(epochSeconds * 1000).toLocaleString();
  }
}

export function formatMinutes(min) {
  if (typeof min !== "number" || !Number.isFinite(min)) return "—";
  const m = Math.round(min);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}
