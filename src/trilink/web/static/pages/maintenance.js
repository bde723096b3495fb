/* Maintenance (the tab shows only when GET /api/diagnostics/reminders answers): the
   diagnostics' reminders, the live ones first (open, acknowledged or snoozed; newest
   first), then the resolved ones folded under "Closed". A card names the fault in plain
   words, the device and its room, the severity (a meter), when it was found, the
   evidence, the advice, the energy it costs and its status, with "Seen"
   (POST …/{id}/acknowledge), "Remind me tomorrow" (…/snooze {"hours": 24}) and
   "Serviced" (…/resolve, after a confirm(): the unit's baseline is learned anew).

   With no live reminder the page says nothing needs attention and names the air
   conditioners and cars whose detectors are still learning their baseline
   (GET /api/diagnostics/devices/{did}, for those devices only: once per visit, and again
   after "Serviced", which starts a unit's learning anew).

   The list is re-read every 30 s and when the hub sends a reminder to the owner's phone
   (an action-invoked event caused by the diagnostics). A registry change remounts the
   page (app.js), which reads everything again. The tab's badge counts the live reminders. */

import { h, meter, nextId, setText, announce } from "../dom.js";
import { request } from "../api.js";
import { canWrite } from "../controls.js";
import { state } from "../store.js";
import { formatDateTime } from "../model.js";

const POLL_MS = 30000;
const CLOSED_SHOWN = 50;
const SNOOZE_HOURS = 24;
const WATCHED_KINDS = new Set(["air-conditioner", "electric-car"]);

// the diagnostics routes (docs/api.md), through api.js's request()
const enc = encodeURIComponent;
const diagnostics = {
  reminders: (active, limit) => request("GET", `/api/diagnostics/reminders?active=${active}&limit=${limit}`),
  act: (id, action, body) => request("POST", `/api/diagnostics/reminders/${enc(id)}/${action}`, body),
  device: (did) => request("GET", `/api/diagnostics/devices/${enc(did)}`),
};

// ------------------------------------------------------------------ the tab's badge

/** Show the number of live reminders on the tab (hidden at 0). */
export function showBadge(count) {
  const badge = document.getElementById("maint-badge");
  const tab = document.querySelector('.tabs a[data-route="maintenance"]');
  if (!badge || !tab) return;
  setText(badge, count);
  badge.hidden = count === 0;
  tab.setAttribute("aria-label", count ? `Maintenance, ${count} live reminder${count === 1 ? "" : "s"}` : "Maintenance");
}

/** Read the live reminders and show their number; rejects with the ApiError (404: the hub runs no diagnostics). */
export async function readBadge() {
  const body = await diagnostics.reminders(true, 1000);
  showBadge(body.reminders.length);
}

/** Whether a live event may mean a new reminder: the hub sent one to the owner's phone. */
export function isReminderNews(event) {
  const ctx = event && event.context;
  return event.kind === "action-invoked" && !!ctx && ctx.actor === "system" && ctx.actor_id === "diagnostics";
}

// ------------------------------------------------------------------ words

function deviceLine(did) {
  const device = state.devices.get(did);
  if (!device) return { name: did, where: "" };
  const room = state.home && device.room_id ? state.home.rooms.find((r) => r.id === device.room_id) : null;
  return { name: device.name || did, where: room ? room.name : "" };
}

function statusText(r) {
  switch (r.status) {
    case "open":
      return "Open";
    case "acknowledged":
      return "Acknowledged";
    case "snoozed":
      return r.snoozed_until ? `Snoozed until ${formatDateTime(r.snoozed_until)}` : "Snoozed";
    case "resolved":
      return `Resolved ${formatDateTime(r.updated_at)}`;
    default:
      return String(r.status);
  }
}

function energyText(kwh) {
  if (typeof kwh !== "number" || !(kwh > 0)) return "";
  return `Costs about ${kwh >= 1 ? kwh.toFixed(1) : kwh.toFixed(2)} kWh a day`;
}

function stillLearning(detector) {
  return Boolean(detector && detector.learning);
}

// ------------------------------------------------------------------ a reminder's card

function reminderCard(first, onChanged) {
  const id = first.id;
  const titleId = nextId("reminder");
  const title = h("h2", { id: titleId });
  const device = h("p", { class: "small muted" });
  const status = h("span", { class: "badge maint-status" });
  const sevText = h("span", { class: "num" });
  const sevMeter = meter({ class: "meter maint-meter", "aria-label": "Severity" });
  const found = h("p", { class: "small muted" });
  const evidence = h("p", { class: "maint-evidence" });
  const advice = h("p", {});
  const energy = h("p", { class: "small maint-energy" });
  const err = h("p", { class: "error", role: "alert", hidden: true, "data-testid": `err-reminder-${id}` });
  const srNames = [];
  const button = (label, testid) => {
    const srName = h("span", { class: "sr-only" }); // "<device>, <fault>: " for screen readers
    srNames.push(srName);
    return h("button", { type: "button", class: "btn btn-small", "data-testid": testid }, srName, label);
  };
  const seenBtn = button("Seen", `reminder-ack-${id}`);
  const snoozeBtn = button("Remind me tomorrow", `reminder-snooze-${id}`);
  const resolveBtn = button("Serviced", `reminder-resolve-${id}`);
  const actions = h("div", { class: "actions" }, seenBtn, snoozeBtn, resolveBtn);
  const card = h("article", { class: "card maint-card", "data-testid": `reminder-${id}`, "aria-labelledby": titleId },
    h("div", { class: "maint-head" }, title, status),
    device,
    h("div", { class: "maint-sev" }, h("span", { class: "small" }, "Severity"), sevText, sevMeter),
    found, evidence, advice, energy, actions, err);

  let current = first;
  let busy = false;
  let gone = false;
  const buttons = [seenBtn, snoozeBtn, resolveBtn];
  const updateButtons = () => {
    const writable = canWrite();
    for (const b of buttons) {
      b.disabled = !writable || busy || gone;
      if (!writable) b.title = "Your role may watch but not change reminders";
      else b.removeAttribute("title");
    }
    if (busy) actions.setAttribute("aria-busy", "true");
    else actions.removeAttribute("aria-busy");
  };

  const show = (r) => {
    current = r;
    const where = deviceLine(r.did);
    const fault = r.title || r.fault;
    setText(title, fault);
    setText(device, where.where ? `${where.name} · ${where.where}` : where.name);
    setText(status, statusText(r));
    card.dataset.status = r.status;
    const pct = Math.max(0, Math.min(100, Math.round((Number(r.severity) || 0) * 100)));
    const severity = r.severity_means ? `${pct} % ${r.severity_means}` : `${pct} %`;
    setText(sevText, severity);
    sevMeter.update(pct, 100, severity);
    setText(found, `Found ${formatDateTime(r.detected_at)}`);
    setText(evidence, r.evidence || "");
    setText(advice, r.advice ? `What to do: ${r.advice}` : "");
    advice.hidden = !r.advice;
    const cost = energyText(r.energy_kwh_per_day);
    setText(energy, cost);
    energy.hidden = !cost;
    actions.hidden = r.status === "resolved";
    for (const srName of srNames) setText(srName, `${where.name}, ${fault}: `);
    updateButtons();
  };

  const run = async (action, body, said) => {
    err.hidden = true;
    busy = true;
    updateButtons();
    try {
      show(await diagnostics.act(id, action, body));
      announce(said);
      onChanged(action);
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      // the reminder no longer exists: keep the card with its error, without buttons to press
      if (e.status === 404) gone = true;
    } finally {
      busy = false;
      updateButtons();
    }
  };

  seenBtn.addEventListener("click", () => run("acknowledge", undefined, "Marked as seen"));
  snoozeBtn.addEventListener("click", () => run("snooze", { hours: SNOOZE_HOURS }, "You will be reminded tomorrow"));
  resolveBtn.addEventListener("click", () => {
    const name = deviceLine(current.did).name;
    const ok = window.confirm(
      `Mark ${name} as serviced? Its detector forgets what it learned and learns the unit's normal behaviour anew.`);
    if (ok) run("resolve", undefined, "Marked as serviced");
  });

  show(first);
  card.show = show;
  // a card whose reminder is gone stays while it shows why (until the page is opened again)
  card.keep = () => gone || !err.hidden;
  return card;
}

// ------------------------------------------------------------------ the page

export function mount(main, ctx = {}) {
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Maintenance"), status));
  if (!canWrite()) {
    main.append(h("p", { class: "muted small maint-note" }, "You are signed in as a guest: you can see reminders but not change them."));
  }
  const learningList = h("ul", { class: "maint-learning" });
  const empty = h("div", { class: "card maint-empty", "data-testid": "maint-empty", hidden: true },
    h("p", {}, "All good: nothing needs attention right now."),
    learningList);
  const live = h("div", { class: "grid maint-list" });
  const closedList = h("div", { class: "grid maint-list" });
  const closedTitle = h("summary", {}, "Closed");
  const closed = h("details", { class: "more maint-closed", hidden: true }, closedTitle, closedList);
  main.append(empty, live, closed);

  const cards = new Map();
  let alive = true;
  let learningAsked = false;
  let learningRound = 0;

  const askLearning = async () => {
    // only ACs and cars have detectors; asked once per visit, and again after "Serviced"
    learningAsked = true;
    const round = ++learningRound;
    const watched = [...state.devices.values()].filter((d) => WATCHED_KINDS.has(d.kind));
    const answers = await Promise.all(watched.map(async (d) => {
      try {
        const info = await diagnostics.device(d.did);
        return (info.detectors || []).some(stillLearning) ? d : null;
      } catch {
        return null; // no detectors for it (404) or not readable now: say nothing
      }
    }));
    if (!alive || round !== learningRound) return; // a newer answer is coming
    learningList.replaceChildren(...answers.filter(Boolean).map((d) =>
      h("li", { class: "small muted", "data-testid": `maint-learning-${d.did}` }, `Learning ${d.name}'s normal behaviour`)));
  };

  const place = (list, items) => {
    const want = items.map((r) => cards.get(r.id));
    const have = [...list.children];
    if (want.length !== have.length || want.some((c, i) => c !== have[i])) list.replaceChildren(...want);
  };

  let loading = null;
  let again = false;
  const refresh = () => {
    if (loading) {
      again = true; // a change during a read: read once more after it
      return loading;
    }
    loading = (async () => {
      try {
        const [activeBody, recentBody] = await Promise.all([
          diagnostics.reminders(true, 1000),
          diagnostics.reminders(false, CLOSED_SHOWN),
        ]);
        if (!alive) return;
        const active = activeBody.reminders;
        const done = recentBody.reminders.filter((r) => r.status === "resolved");
        const seen = new Set();
        for (const r of [...active, ...done]) {
          seen.add(r.id);
          const card = cards.get(r.id);
          if (card) card.show(r);
          else cards.set(r.id, reminderCard(r, changed));
        }
        for (const [id, card] of cards) {
          if (!seen.has(id) && !card.keep()) {
            card.remove();
            cards.delete(id);
          }
        }
        const kept = [...cards.entries()].filter(([id]) => !seen.has(id)).map(([, c]) => c);
        place(live, active);
        for (const c of kept) if (c.parentNode !== live) live.append(c);
        place(closedList, done);
        setText(closedTitle, `Closed (${done.length})`);
        closed.hidden = done.length === 0;
        empty.hidden = active.length > 0;
        setText(status, active.length
          ? `${active.length} reminder${active.length === 1 ? "" : "s"} about live faults`
          : "");
        showBadge(active.length);
        if (!active.length && !learningAsked) askLearning();
      } catch (e) {
        if (alive) setText(status, `The reminders could not be loaded: ${e.message}`);
      } finally {
        loading = null;
        if (again && alive) {
          again = false;
          refresh();
        }
      }
    })();
    return loading;
  };

  const changed = (action) => {
    // a serviced unit learns its baseline anew: the learning list is asked again
    if (action === "resolve") learningAsked = false;
    refresh();
  };

  refresh();
  const timer = setInterval(refresh, POLL_MS);
  let newsTimer = null;
  const offEvents = ctx.live
    ? ctx.live.onEvent((event) => {
      if (!isReminderNews(event)) return;
      clearTimeout(newsTimer);
      newsTimer = setTimeout(refresh, 300);
    })
    : () => {};
  return () => {
    alive = false;
    clearInterval(timer);
    clearTimeout(newsTimer);
    offEvents();
  };
}
