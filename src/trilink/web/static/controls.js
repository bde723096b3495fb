/* Controls made from a property's spec, and action buttons.

   bool + write        → switch (checkbox, role=switch)
   value-list + write  → <select>, the descriptions as option labels
   number + range      → <input type=range> with the spec's min/max/step and a visible
                         value with its unit; sent on change, not on every input
   number, no range    → <input type=number>;  colour (unit rgb) → <input type=color>
   string + write      → text field, sent on change
   read-only           → the value with its unit
   action, no inputs   → button;  action with inputs → a small form

   A write is PUT /api/devices/{did}/properties/{s}.{p}; an action POST …/actions/{s}.{a}.
   The hub's error shows under the control (role=alert) and the control returns to the
   last reading. Live values update the control in place (not while a slider is held).

   Test ids: control  ctl-<did>-<s>.<p>   read-only value  val-<did>-<s>.<p>
             action   act-<did>-<s>.<a>   error            err-<control's test id> */

import { api } from "./api.js";
import { h, nextId, setText } from "./dom.js";
import { formatValue, unitSymbol, decimalsFor, formatNumber } from "./spec.js";
import { state, value as readingValue } from "./store.js";

/** Whether the signed-in person may change devices. */
export function canWrite() {
  return !state.me || state.me.role !== "guest";
}

function srName(device) {
  return h("span", { class: "sr-only" }, device.name + ": ");
}

function errorBox(testid) {
  return h("p", { class: "error", role: "alert", "data-testid": "err-" + testid, hidden: true });
}

function showError(box, err) {
  box.textContent = err ? err.message || String(err) : "";
  box.hidden = !err;
}

async function send(call) {
  const result = await call();
  if (result && result.ok === false) throw new Error(result.message || "the device refused");
  return result;
}

function rangeAttrs(prop) {
  if (!prop.range) return {};
  const step = prop.range.step > 0 ? String(prop.range.step) : "any";
  return { min: String(prop.range.min), max: String(prop.range.max), step };
}

function toNumber(prop, text) {
  const n = Number(text);
  if (!Number.isFinite(n)) return null;
  return prop.integer ? Math.round(n) : n;
}

function withUnit(prop, n) {
  const sym = unitSymbol(prop.unit);
  const text = formatNumber(n, decimalsFor(prop));
  return sym ? `${text} ${sym}` : text;
}

/**
 * A row for one property of a device: label, control or value, error slot.
 * Returns the row element; subscriptions go into `scope`.
 */
export function propertyRow(device, prop, scope) {
  const did = device.did;
  const current = () => readingValue(did, prop.key);
  const id = nextId("c");
  const testid = `ctl-${did}-${prop.key}`;
  const label = h("label", { for: id }, srName(device), prop.description);

  if (!prop.writable) {
    const out = h("span", { class: "prop-value", id, "data-testid": `val-${did}-${prop.key}` });
    const swatch = prop.unit === "rgb" ? h("span", { class: "swatch", "aria-hidden": "true" }) : null;
    const render = (v) => {
      setText(out, formatValue(prop, v));
      if (swatch && typeof v === "number") swatch.style.background = "#" + v.toString(16).padStart(6, "0");
    };
    render(current());
    scope.prop(did, prop.key, render);
    return h("div", { class: "prop" }, h("span", { class: "prop-name" }, srName(device), prop.description),
      h("span", {}, swatch, out));
  }

  const err = errorBox(testid);
  let control;
  let row;
  let holding = false; // a slider being dragged is not moved by live values
  let busy = false;

  let missed = false; // a live value arrived while a write was in flight

  const write = async (v) => {
    showError(err, null);
    busy = true;
    missed = false;
    control.setAttribute("aria-busy", "true");
    try {
      await send(() => api.setProperty(did, prop.siid, prop.piid, v));
      if (missed) render(current());
    } catch (e) {
      showError(err, e);
      render(current()); // back to the true state
    } finally {
      busy = false;
      control.removeAttribute("aria-busy");
    }
  };

  let render;
  if (prop.format === "bool") {
    control = h("input", { type: "checkbox", role: "switch", class: "switch", id, "data-testid": testid });
    render = (v) => {
      control.checked = v === true;
    };
    control.addEventListener("change", () => write(control.checked));
    row = h("div", { class: "prop" }, label, control, err);
  } else if (prop.list) {
    control = h("select", { id, "data-testid": testid });
    const writeOnly = !prop.readable;
    if (writeOnly) control.append(h("option", { value: "" }, "Choose…"));
    prop.list.forEach((choice, i) => control.append(h("option", { value: String(i) }, choice.description)));
    render = (v) => {
      if (writeOnly) {
        control.value = "";
        return;
      }
      const i = prop.list.findIndex((c) => c.value === v);
      control.value = i >= 0 ? String(i) : "";
    };
    control.addEventListener("change", async () => {
      if (control.value === "") return;
      const choice = prop.list[Number(control.value)];
      await write(choice.value);
      if (writeOnly) control.value = "";
    });
    row = h("div", { class: "prop" }, label, control, err);
  } else if (prop.unit === "rgb" && prop.numeric) {
    control = h("input", { type: "color", id, "data-testid": testid });
    render = (v) => {
      if (typeof v === "number") control.value = "#" + v.toString(16).padStart(6, "0");
    };
    control.addEventListener("change", () => write(parseInt(control.value.slice(1), 16)));
    row = h("div", { class: "prop" }, label, control, err);
  } else if (prop.numeric && prop.range) {
    const output = h("output", { for: id, "aria-hidden": "true" });
    control = h("input", { type: "range", id, "data-testid": testid, ...rangeAttrs(prop) });
    const show = (n) => {
      const text = withUnit(prop, n);
      setText(output, text);
      control.setAttribute("aria-valuetext", text);
    };
    render = (v) => {
      if (holding) return;
      if (typeof v === "number") {
        control.value = String(v);
        show(v);
      } else {
        setText(output, "—");
      }
    };
    control.addEventListener("pointerdown", () => { holding = true; });
    control.addEventListener("input", () => {
      holding = true;
      show(Number(control.value));
    });
    // released without a change event (back where it started): show the live value again
    const release = () => setTimeout(() => {
      if (holding) {
        holding = false;
        render(current());
      }
    }, 80);
    control.addEventListener("pointerup", release);
    control.addEventListener("pointercancel", release);
    control.addEventListener("change", async () => {
      holding = false;
      const n = toNumber(prop, control.value);
      if (n === null) return;
      if (n === current()) return;
      await write(n);
    });
    row = h("div", { class: "prop wide" }, label, output, h("div", { class: "range" }, control), err);
  } else if (prop.numeric) {
    control = h("input", { type: "number", id, "data-testid": testid, inputmode: "decimal", step: "any" });
    render = (v) => {
      if (document.activeElement !== control && typeof v === "number") control.value = String(v);
    };
    control.addEventListener("change", () => {
      const n = toNumber(prop, control.value);
      if (n === null) render(current());
      else write(n);
    });
    row = h("div", { class: "prop" }, label, control, err);
  } else {
    control = h("input", { type: "text", id, "data-testid": testid, autocomplete: "off" });
    render = (v) => {
      if (document.activeElement !== control && v !== undefined && v !== null) control.value = String(v);
    };
    control.addEventListener("change", () => write(control.value));
    row = h("div", { class: "prop" }, label, control, err);
  }

  render(current());
  scope.prop(did, prop.key, (v) => {
    if (busy) missed = true;
    else render(v);
  });
  trackEnabled(device, control, scope);
  return row;
}

/** Disable a control while its device is offline or the person may only watch. */
function trackEnabled(device, control, scope) {
  const update = () => {
    const dev = state.devices.get(device.did) || device;
    const writable = canWrite();
    control.disabled = !writable || dev.online === false;
    if (!writable) control.title = "Your role may watch but not change devices";
    else if (dev.online === false) control.title = `${dev.name} is offline`;
    else control.removeAttribute("title");
  };
  update();
  scope.device(device.did, update);
}

/** A button for an action without inputs, or a form for one with inputs. */
export function actionControl(device, action, spec, scope) {
  const did = device.did;
  const testid = `act-${did}-${action.key}`;
  const err = errorBox(testid);
  const fields = action.in.map((piid) => {
    const prop = spec.props.get(`${action.siid}.${piid}`);
    const id = nextId("a");
    const input = h("input", {
      id,
      type: prop && prop.numeric ? "number" : "text",
      step: prop && prop.numeric ? "any" : null,
      "data-testid": `${testid}-in${piid}`,
      autocomplete: "off",
    });
    return { prop, input, el: h("div", { class: "field" }, h("label", { for: id }, prop ? prop.description : `Input ${piid}`), input) };
  });
  const button = h("button", { type: fields.length ? "submit" : "button", class: "btn btn-small", "data-testid": testid },
    h("span", { class: "sr-only" }, device.name + ": "), action.description);

  const run = async () => {
    showError(err, null);
    const args = fields.map(({ prop, input }) => (prop && prop.numeric ? toNumber(prop, input.value) : input.value));
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await send(() => api.callAction(did, action.siid, action.aiid, args));
      for (const f of fields) f.input.value = "";
    } catch (e) {
      showError(err, e);
    } finally {
      button.removeAttribute("aria-busy");
      update();
    }
  };
  const update = () => {
    const dev = state.devices.get(did) || device;
    button.disabled = !canWrite() || dev.online === false;
  };
  update();
  scope.device(did, update);

  if (!fields.length) {
    button.addEventListener("click", run);
    return { button, err };
  }
  const form = h("form", { class: "prop action-form" },
    h("div", { class: "fields" }, fields.map((f) => f.el)), h("div", { class: "actions" }, button), err);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    run();
  });
  return { form, err };
}

/** Buttons for a list of argument-less actions in one row, their errors below. */
export function actionRow(device, actions, spec, scope) {
  const simple = [];
  const forms = [];
  for (const action of actions) {
    const c = actionControl(device, action, spec, scope);
    if (c.form) forms.push(c.form);
    else simple.push(c);
  }
  const out = [];
  if (simple.length) {
    out.push(h("div", { class: "prop action-form" },
      h("div", { class: "actions" }, simple.map((c) => c.button)), simple.map((c) => c.err)));
  }
  return out.concat(forms);
}
