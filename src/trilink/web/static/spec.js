/* MIoT-Spec-V2 documents (GET /api/devices/{did}/spec) turned into what the pages need:
   each property's address, name, format, unit, range or value-list and access, each
   action with its input properties; and value formatting with units. */

/** The name field of a URN: "urn:miot-spec-v2:property:target-temperature:…" → "target-temperature". */
export function urnName(urn) {
  const parts = String(urn || "").split(":");
  return parts.length > 3 ? parts[3] : String(urn || "");
}

const INTEGER = new Set(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]);

// MIoT's generic wording, put plainly
function friendly(description, name) {
  if (name === "on" && /^switch( status)?$/i.test(description.trim())) return "Power";
  return description;
}

export function parseSpec(doc) {
  const props = new Map();
  const actions = [];
  for (const service of doc.services || []) {
    const serviceName = urnName(service.type);
    for (const p of service.properties || []) {
      const access = p.access || [];
      const key = `${service.iid}.${p.iid}`;
      const range = Array.isArray(p["value-range"]) && p["value-range"].length >= 2 ? p["value-range"] : null;
      const list = Array.isArray(p["value-list"]) && p["value-list"].length ? p["value-list"] : null;
      props.set(key, {
        key,
        siid: service.iid,
        piid: p.iid,
        name: urnName(p.type),
        service: serviceName,
        serviceDescription: service.description || serviceName,
        description: friendly(p.description || urnName(p.type), urnName(p.type)),
        format: p.format,
        unit: p.unit || null,
        range: range ? { min: range[0], max: range[1], step: range[2] || 0 } : null,
        list,
        readable: access.includes("read"),
        writable: access.includes("write"),
        numeric: INTEGER.has(p.format) || p.format === "float",
        integer: INTEGER.has(p.format),
      });
    }
    for (const a of service.actions || []) {
      actions.push({
        key: `${service.iid}.${a.iid}`,
        siid: service.iid,
        aiid: a.iid,
        name: urnName(a.type),
        service: serviceName,
        description: a.description || urnName(a.type),
        in: a.in || [],
        out: a.out || [],
      });
    }
  }
  return { type: doc.type, kind: urnName(doc.type), description: doc.description || "", props, actions };
}

/** Find a property by service and property names (e.g. "charging", "charge-limit"). */
export function findProp(spec, service, name) {
  for (const p of spec.props.values()) if (p.service === service && p.name === name) return p;
  return null;
}

const UNITS = {
  celsius: "°C",
  fahrenheit: "°F",
  percentage: "%",
  kelvin: "K",
  degree: "°",
  minutes: "min",
  seconds: "s",
  hours: "h",
  m3: "m³",
  "m3/h": "m³/h",
  m2: "m²",
  lux: "lx",
  rgb: "",
};

export function unitSymbol(unit) {
  if (!unit || unit === "none") return "";
  return unit in UNITS ? UNITS[unit] : unit;
}

/** Decimal places that show a property's step (0.5 → 1, 0.01 → 2, 0 → up to 6 for degrees). */
export function decimalsFor(prop) {
  if (!prop || prop.integer) return 0;
  const step = prop.range ? prop.range.step : 0;
  if (step > 0) {
    const text = String(step);
    return text.includes(".") ? Math.min(text.split(".")[1].length, 4) : 0;
  }
  return prop.unit === "degree" ? 5 : 2;
}

export function formatNumber(value, decimals) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  return value.toLocaleString(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A value as a person reads it: the value-list description, on/off, number with unit. */
export function formatValue(prop, value) {
  if (value === undefined || value === null) return "—";
  if (!prop) return typeof value === "object" ? JSON.stringify(value) : String(value);
  if (prop.list) {
    const choice = prop.list.find((c) => c.value === value);
    if (choice) return choice.description;
  }
  if (prop.format === "bool") {
    if (prop.name === "locked" || prop.name === "lock-state") return value ? "Locked" : "Unlocked";
    return value ? "On" : "Off";
  }
  if (prop.unit === "rgb" && typeof value === "number") return "#" + value.toString(16).padStart(6, "0");
  if (typeof value === "number") {
    const sym = unitSymbol(prop.unit);
    const num = formatNumber(value, decimalsFor(prop));
    if (!sym) return num;
    return sym === "%" || sym === "°" || sym === "°C" || sym === "°F" ? num + " " + sym : num + " " + sym;
  }
  if (value === "") return "—";
  return String(value);
}
