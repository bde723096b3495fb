/* DOM helpers: build elements without innerHTML (text from the hub is always set as
   text, never parsed as markup), and a few SVG and ARIA conveniences. */

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string" && !(el instanceof SVGElement)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h("div", {class: "x", onclick: fn}, "text", otherNode, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Set text only when it changed (cheap to call every frame). */
export function setText(el, text) {
  const t = String(text);
  if (el.textContent !== t) el.textContent = t;
}

/** A small line icon (24×24 viewBox, stroked) from one path. */
export function icon(d, cls = "chip-icon") {
  return s("svg", { viewBox: "0 0 24 24", class: cls, "aria-hidden": "true" }, s("path", { d }));
}

/** A progress meter: role=progressbar with min/max/now and a text value. */
export function meter(attrs = {}) {
  const bar = h("span");
  const el = h("div", { class: "meter", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", ...attrs }, bar);
  el.update = (now, max = 100, text = null) => {
    const pct = max > 0 ? Math.max(0, Math.min(100, (now / max) * 100)) : 0;
    bar.style.width = pct.toFixed(1) + "%";
    el.setAttribute("aria-valuemax", String(max));
    el.setAttribute("aria-valuenow", String(Math.round(now * 10) / 10));
    if (text) el.setAttribute("aria-valuetext", text);
  };
  return el;
}

let uid = 0;
/** A document-unique id for label/for pairs. */
export function nextId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Say something to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // a fresh text node in a later task is announced even when the words repeat
  setTimeout(() => { region.textContent = text; }, 30);
}
