/* A device card: name, online badge, a row per property (control or value) and the
   device's actions. Device information and telemetry services fold into "More". */

import { h, nextId, setText } from "./dom.js";
import { state } from "./store.js";
import { propertyRow, actionRow } from "./controls.js";

const KIND_LABELS = {
  "air-conditioner": "Air conditioner",
  "electric-car": "Car",
  "temperature-humidity-sensor": "Sensor",
  outlet: "Plug",
  light: "Light",
  lock: "Lock",
  curtain: "Curtain",
  vacuum: "Vacuum",
  fan: "Fan",
  phone: "Phone",
};

export function kindLabel(kind) {
  return KIND_LABELS[kind] || (kind || "device").replace(/-/g, " ");
}

function isSecondary(prop) {
  return prop.siid === 1 || prop.service === "device-information" || /telemetry/.test(prop.service);
}

/** Properties worth a row: readable or writable, minus write-only action inputs. */
export function visibleProps(spec) {
  const inputs = new Set();
  for (const a of spec.actions) for (const piid of a.in) inputs.add(`${a.siid}.${piid}`);
  return [...spec.props.values()].filter((p) => {
    if (!p.readable && !p.writable) return false;
    if (!p.readable && inputs.has(p.key)) return false;
    return true;
  });
}

/** The online badge of a device, kept up to date. */
export function onlineBadge(device, scope, card) {
  const badge = h("span", { class: "badge", "data-testid": `online-${device.did}` });
  const update = () => {
    const online = (state.devices.get(device.did) || device).online !== false;
    setText(badge, online ? "Online" : "Offline");
    badge.className = "badge " + (online ? "badge-ok" : "badge-off");
    if (card) card.classList.toggle("offline", !online);
  };
  scope.device(device.did, update);
  badge.update = update;
  return badge;
}

export function deviceCard(device, scope) {
  const spec = state.specs.get(device.did);
  const titleId = nextId("dev");
  const card = h("article", { class: "card dev", "data-testid": `dev-${device.did}`, "aria-labelledby": titleId });
  const badge = onlineBadge(device, scope, card);
  card.append(h("div", { class: "dev-head" },
    h("h3", { id: titleId }, device.name),
    h("span", { class: "badge" }, kindLabel(device.kind)),
    badge));
  badge.update();
  if (!spec) {
    card.append(h("p", { class: "muted" }, "The hub has no description of this device."));
    return card;
  }
  const main = h("div", { class: "props" });
  const more = h("div", { class: "props" });
  for (const prop of visibleProps(spec)) {
    (isSecondary(prop) ? more : main).append(propertyRow(device, prop, scope));
  }
  main.append(...actionRow(device, spec.actions, spec, scope));
  card.append(main);
  if (more.childElementCount) {
    card.append(h("details", { class: "more" }, h("summary", {}, "More readings"), more));
  }
  return card;
}
