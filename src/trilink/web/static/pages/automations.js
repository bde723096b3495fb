/* Automations (the tab shows only when GET /api/automations answers): each automation
   with an enabled switch (POST /api/automations/{id}/enable | disable), "Run now"
   (POST …/run), when it last ran and how it went, and its last runs' traces
   (GET …/traces?limit=5) written out: the trigger with its values, each condition with
   its result and the values it saw, each action with its result or error. The list is
   re-read every 15 s (runs are not on the live feed). */

import { h, nextId, setText } from "../dom.js";
import { api } from "../api.js";
import { canWrite } from "../controls.js";
import { formatDateTime } from "../model.js";

const POLL_MS = 15000;

function valuesText(values) {
  if (!values || typeof values !== "object") return "";
  const show = (k, v) => {
    if (typeof v === "number" && v > 1e9 && (k === "ts" || k.endsWith("_at") || k === "at")) return formatDateTime(v);
    return typeof v === "object" ? JSON.stringify(v) : v;
  };
  const parts = Object.entries(values).map(([k, v]) => `${k.replace(/_/g, " ")} = ${show(k, v)}`);
  return parts.join(", ");
}

function resultClass(ok) {
  return ok ? "res-ok" : "res-bad";
}

function traceView(trace) {
  const ran = trace.kind === "run";
  const failed = trace.actions && trace.actions.some((a) => a.result === "error");
  const ok = ran && !failed && (!trace.outcome || !/error|fail/i.test(trace.outcome));
  const items = [];
  if (trace.trigger) {
    const v = valuesText(trace.trigger.values);
    items.push(h("li", {}, "Trigger: ", trace.trigger.description || trace.trigger.type || "—",
      v ? h("span", { class: "values" }, ` (${v})`) : null));
  }
  for (const c of trace.conditions || []) {
    const v = valuesText(c.values);
    items.push(h("li", {}, `Condition ${c.index}: `, c.description || "",
      " — ", h("span", { class: resultClass(c.result) }, c.result ? "true" : "false"),
      c.reason ? h("span", { class: "values" }, ` (${c.reason})`) : v ? h("span", { class: "values" }, ` (${v})`) : null));
  }
  (trace.actions || []).forEach((a, i) => {
    items.push(h("li", {}, `Action ${i + 1}: `, a.description || a.type || "",
      " — ", h("span", { class: resultClass(a.result === "ok") }, a.result === null ? "running" : a.result),
      a.error ? h("span", { class: "values" }, ` (${a.error})`) : null));
  });
  for (const note of trace.notes || []) items.push(h("li", { class: "muted" }, note));
  return h("div", { class: "trace", "data-testid": `trace-${trace.run_id}` },
    h("p", {}, h("strong", {}, trace.started ? formatDateTime(trace.started) : ""), " · ",
      h("span", { class: resultClass(ok) }, trace.outcome || (ran ? "running" : "not run"))),
    trace.message ? h("p", { class: "small muted" }, trace.message) : null,
    items.length ? h("ul", { class: "small" }, items) : null);
}

function automationCard(info) {
  const switchId = nextId("auto");
  const err = h("p", { class: "error", role: "alert", hidden: true, "data-testid": `auto-${info.id}-error` });
  const toggle = h("input", { type: "checkbox", role: "switch", class: "switch", id: switchId, "data-testid": `auto-${info.id}-enabled` });
  const last = h("p", { class: "small muted", "data-testid": `auto-${info.id}-last` });
  const runBtn = h("button", { type: "button", class: "btn btn-small", "data-testid": `auto-${info.id}-run` },
    h("span", { class: "sr-only" }, info.name + ": "), "Run now");
  const traces = h("div", { "data-testid": `auto-${info.id}-traces` }, h("p", { class: "muted small" }, "Loading…"));
  const details = h("details", { class: "more" }, h("summary", {}, "Recent runs"), traces);
  const card = h("article", { class: "card", "data-testid": `auto-${info.id}` },
    h("div", { class: "auto-head" },
      h("h2", {}, info.name || info.id),
      h("label", { for: switchId, class: "small" }, h("span", { class: "sr-only" }, (info.name || info.id) + ": "), "Enabled"),
      toggle),
    h("p", { class: "small muted" }, info.id, info.source ? ` · from ${info.source}` : ""),
    last, err, h("div", { class: "actions" }, runBtn), details);

  let current = info;
  const show = (a) => {
    current = a;
    toggle.checked = !!a.enabled;
    const bits = [];
    bits.push(a.last_triggered ? `Last ran ${formatDateTime(a.last_triggered)}` : "Has not run yet");
    if (a.last_result) bits.push(`result: ${a.last_result}`);
    if (a.running) bits.push(`${a.running} running`);
    if (a.pending_timers) bits.push(`${a.pending_timers} waiting`);
    setText(last, bits.join(" · "));
  };
  const fail = (e) => {
    err.textContent = e.message;
    err.hidden = false;
  };
  const loadTraces = async () => {
    try {
      const list = await api.traces(info.id, 5);
      traces.replaceChildren(...(list.length ? list.map(traceView) : [h("p", { class: "muted small" }, "No runs yet.")]));
    } catch (e) {
      traces.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
    }
  };
  toggle.disabled = runBtn.disabled = !canWrite();
  toggle.addEventListener("change", async () => {
    err.hidden = true;
    const want = toggle.checked;
    try {
      show(await api.setAutomationEnabled(info.id, want));
    } catch (e) {
      fail(e);
      toggle.checked = !!current.enabled;
    }
  });
  runBtn.addEventListener("click", async () => {
    err.hidden = true;
    runBtn.disabled = true;
    try {
      await api.runAutomation(info.id);
      setTimeout(() => {
        if (details.open) loadTraces();
      }, 800);
    } catch (e) {
      fail(e);
    } finally {
      runBtn.disabled = !canWrite();
    }
  });
  details.addEventListener("toggle", () => {
    if (details.open) loadTraces();
  });
  show(info);
  card.show = show;
  card.refreshTraces = () => {
    if (details.open) loadTraces();
  };
  return card;
}

export function mount(main) {
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Automations")));
  const list = h("div", { class: "grid", "data-testid": "automations" });
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  main.append(status, list);
  const cards = new Map();
  let alive = true;

  const refresh = async () => {
    try {
      const all = await api.automations();
      if (!alive) return;
      setText(status, all.length ? "" : "No automations are loaded. Load some with `trilink automation load FILE`.");
      const seen = new Set();
      for (const a of all) {
        seen.add(a.id);
        const card = cards.get(a.id);
        if (card) {
          card.show(a);
          card.refreshTraces();
        } else {
          const c = automationCard(a);
          cards.set(a.id, c);
          list.append(c);
        }
      }
      for (const [id, card] of cards) {
        if (!seen.has(id)) {
          card.remove();
          cards.delete(id);
        }
      }
    } catch (e) {
      if (alive) setText(status, `The automations could not be loaded: ${e.message}`);
    }
  };
  refresh();
  const timer = setInterval(refresh, POLL_MS);
  return () => {
    alive = false;
    clearInterval(timer);
  };
}
