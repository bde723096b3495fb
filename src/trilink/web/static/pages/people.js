/* People: who is where. From GET /api/homes each person names a phone and a car.
   - "In the car" when the person's car is driving (driving-state 1);
   - else "Home" when the phone is within the home zone's radius (GET /api/zones, 150 m
     without it) of the home's location, "At <zone>" inside another zone, or "Away" with
     the distance from home;
   - the phone's battery and whether it is charging. All of it updates live. */

import { h, setText } from "../dom.js";
import { state, Scope } from "../store.js";
import { val, distanceFromHome, isDriving } from "../model.js";
import { haversine, formatDistance } from "../geo.js";

function zoneOf(did) {
  const lat = val(did, "location", "latitude");
  const lon = val(did, "location", "longitude");
  if (typeof lat !== "number" || typeof lon !== "number") return null;
  for (const z of state.zones || []) {
    if (z.id === "home" || z.source === "home") continue;
    if (typeof z.latitude === "number" && haversine(lat, lon, z.latitude, z.longitude) <= (z.radius_m || 100)) return z;
  }
  return null;
}

/** Where a person is: {where: "home"|"car"|"zone"|"away"|"unknown", text}. */
export function whereIs(person) {
  const phone = person.phone_did && state.devices.get(person.phone_did);
  const car = person.car_did && state.devices.get(person.car_did);
  if (car && isDriving(car.did)) {
    const d = distanceFromHome(car.did);
    const speed = val(car.did, "location", "speed");
    const bits = [Number.isFinite(d) ? `${formatDistance(d)} from home` : null,
      typeof speed === "number" ? `${Math.round(speed)} km/h` : null].filter(Boolean);
    return { where: "car", text: "In the car", detail: bits.join(" · ") };
  }
  if (!phone) return { where: "unknown", text: "Unknown", detail: "No phone linked" };
  const d = distanceFromHome(phone.did);
  if (!Number.isFinite(d)) return { where: "unknown", text: "Unknown", detail: "The phone has not reported a position" };
  if (d <= state.homeRadiusM) return { where: "home", text: "Home", detail: "" };
  const zone = zoneOf(phone.did);
  if (zone) return { where: "zone", text: `At ${zone.name}`, detail: `${formatDistance(d)} from home` };
  return { where: "away", text: "Away", detail: `${formatDistance(d)} from home` };
}

function personCard(person, scope) {
  const where = h("span", { class: "where", "data-testid": `person-${person.id}-where` });
  const detail = h("span", { class: "muted small" });
  const battery = h("span", { class: "num", "data-testid": `person-${person.id}-battery` });
  const carLine = h("span", { class: "muted small", "data-testid": `person-${person.id}-car` });
  const update = () => {
    const w = whereIs(person);
    where.dataset.where = w.where;
    setText(where, w.text);
    setText(detail, w.detail ? ` · ${w.detail}` : "");
    if (person.phone_did) {
      const level = val(person.phone_did, "battery", "battery-level");
      const charging = val(person.phone_did, "battery", "charging-state");
      const online = (state.devices.get(person.phone_did) || {}).online !== false;
      setText(battery, typeof level === "number"
        ? `Phone battery ${level} %${charging === true ? " · charging" : ""}${online ? "" : " · offline"}`
        : "Phone battery —");
    } else setText(battery, "");
    if (person.car_did && state.devices.get(person.car_did)) {
      const car = state.devices.get(person.car_did);
      const soc = val(car.did, "traction-battery", "state-of-charge");
      setText(carLine, `${car.name}${typeof soc === "number" ? ` · ${soc.toFixed(0)} %` : ""}`);
    }
  };
  update();
  for (const did of [person.phone_did, person.car_did]) if (did) scope.device(did, update);
  return h("article", { class: "card person", "data-testid": `person-${person.id}`, "aria-label": person.name },
    h("span", { class: "avatar", "aria-hidden": "true" }, (person.name || "?").slice(0, 1).toUpperCase()),
    h("div", { class: "person-text" },
      h("h2", {}, person.name, " ", h("span", { class: "badge" }, person.role || "member")),
      h("p", {}, where, detail),
      h("p", { class: "small" }, battery),
      person.car_did ? h("p", { class: "small" }, carLine) : null));
}

export function mount(main) {
  const scope = new Scope();
  main.append(h("div", { class: "page-head" }, h("h1", {}, "People")));
  const people = state.homes.flatMap((home) => home.people || []);
  if (!people.length) {
    main.append(h("p", { class: "muted" }, "No people are set up in this home."));
  } else {
    main.append(h("div", { class: "grid" }, people.map((p) => personCard(p, scope))));
  }
  return () => scope.dispose();
}
