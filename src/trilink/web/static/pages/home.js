/* Home: every room with its devices and their live state and controls. Rooms come from
   GET /api/homes in the hub's order; devices without a room (the car, phones) follow
   under "Not in a room". Each room's heading shows its temperature and humidity live. */

import { h, nextId, setText } from "../dom.js";
import { state, Scope } from "../store.js";
import { deviceCard } from "../card.js";
import { val } from "../model.js";

function climateOf(roomDevices) {
  // a room's air: its sensor if it has one, else an AC's own thermometer
  const sensor = roomDevices.find((d) => d.kind === "temperature-humidity-sensor");
  if (sensor) return { did: sensor.did, service: "temperature-humidity-sensor" };
  const ac = roomDevices.find((d) => d.kind === "air-conditioner");
  if (ac) return { did: ac.did, service: "environment" };
  return null;
}

function roomSection(room, devices, scope) {
  const titleId = nextId("room");
  const summary = h("span", { class: "muted num", "data-testid": `room-climate-${room.id}` });
  const climate = climateOf(devices);
  if (climate) {
    const update = () => {
      const t = val(climate.did, climate.service, "temperature");
      const rh = val(climate.did, climate.service, "relative-humidity");
      const parts = [];
      if (typeof t === "number") parts.push(`${t.toFixed(1)} °C`);
      if (typeof rh === "number") parts.push(`${Math.round(rh)} % humidity`);
      setText(summary, parts.join(" · "));
    };
    update();
    scope.device(climate.did, update);
  }
  return h("section", { class: "room", "data-testid": `room-${room.id}`, "aria-labelledby": titleId },
    h("div", { class: "room-head" }, h("h2", { id: titleId }, room.name), summary),
    devices.length
      ? h("div", { class: "grid" }, devices.map((d) => deviceCard(d, scope)))
      : h("p", { class: "muted" }, "No devices in this room."));
}

export function mount(main) {
  const scope = new Scope();
  const home = state.home;
  const devices = [...state.devices.values()];
  const online = devices.filter((d) => d.online !== false).length;
  const count = h("span", { class: "muted", "data-testid": "home-online" });
  const updateCount = () => {
    const all = [...state.devices.values()];
    setText(count, `${all.length} devices · ${all.filter((d) => d.online !== false).length} online`);
  };
  setText(count, `${devices.length} devices · ${online} online`);
  scope.any(updateCount);

  main.append(h("div", { class: "page-head" }, h("h1", {}, home ? home.name : "Home"), count));

  const rooms = home ? [...home.rooms] : [];
  const known = new Set(rooms.map((r) => r.id));
  // devices in rooms the home does not list still get a section, named by their id
  for (const d of devices) {
    if (d.room_id && !known.has(d.room_id)) {
      known.add(d.room_id);
      rooms.push({ id: d.room_id, name: d.room_id });
    }
  }
  for (const room of rooms) {
    main.append(roomSection(room, devices.filter((d) => d.room_id === room.id), scope));
  }
  const loose = devices.filter((d) => !d.room_id);
  if (loose.length) main.append(roomSection({ id: "none", name: "Not in a room" }, loose, scope));
  if (!devices.length) main.append(h("p", { class: "muted" }, "The hub knows no devices yet."));
  return () => scope.dispose();
}
