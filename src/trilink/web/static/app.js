/* The dashboard's entry point: session check and sign-in, loading the home (homes,
   devices, their specs and readings), the live feed, the activity strip and the hash
   router (#/home, #/car, #/people, #/history, #/automations, #/maintenance, #/copilot).

   A page module exports mount(main, ctx) and returns a function that unmounts it; the
   router calls it once per navigation. Live values never re-render a page: they flow
   through the store to the elements that show them. */

import { api, onUnauthorized } from "./api.js";
import { state, loadDetail, resetState } from "./store.js";
import { parseSpec } from "./spec.js";
import { LiveFeed } from "./live.js";
import { mountActivity } from "./activity.js";
import { initTheme } from "./theme.js";
import { h } from "./dom.js";
import * as home from "./pages/home.js";
import * as car from "./pages/car.js";
import * as people from "./pages/people.js";
import * as history from "./pages/history.js";
import * as automations from "./pages/automations.js";
import * as maintenance from "./pages/maintenance.js";
import * as copilot from "./pages/copilot.js";

const PAGES = {
  home: { module: home, title: "Home" },
  car: { module: car, title: "Car" },
  people: { module: people, title: "People" },
  history: { module: history, title: "History" },
  automations: { module: automations, title: "Automations" },
  maintenance: { module: maintenance, title: "Maintenance" },
  copilot: { module: copilot, title: "Copilot" },
};

const $ = (id) => document.getElementById(id);
const ui = {
  boot: $("boot"),
  signin: $("signin-view"),
  signinForm: $("signin-form"),
  signinToken: $("signin-token"),
  signinError: $("signin-error"),
  shell: $("shell"),
  main: $("main"),
  conn: $("conn"),
  who: $("who"),
  activity: $("activity"),
  autoTab: document.querySelector('.tabs a[data-route="automations"]'),
  maintTab: document.querySelector('.tabs a[data-route="maintenance"]'),
};

let live = null;
let unmountPage = null;
let unmountActivity = null;
let currentRoute = null;
let running = false;
let automationsAvailable = false;
let maintenanceAvailable = false;

// ------------------------------------------------------------------ loading state

async function loadStructure() {
  const [homes, devices] = await Promise.all([api.homes(), api.devices()]);
  state.homes = homes;
  state.home = homes[0] || null;
  const seen = new Set();
  for (const d of devices) {
    seen.add(d.did);
    const prev = state.devices.get(d.did);
    state.devices.set(d.did, prev ? Object.assign(prev, d) : { ...d });
  }
  for (const did of [...state.devices.keys()]) if (!seen.has(did)) state.devices.delete(did);
  const missing = devices.filter((d) => !state.specs.has(d.did));
  await Promise.all(missing.map(async (d) => {
    try {
      state.specs.set(d.did, parseSpec(await api.spec(d.did)));
    } catch (err) {
      console.warn("no spec for", d.did, err);
    }
  }));
}

async function loadReadings() {
  await Promise.all([...state.devices.keys()].map(async (did) => {
    try {
      loadDetail(await api.device(did));
    } catch (err) {
      if (err.status !== 404) console.warn("cannot read", did, err);
    }
  }));
}

async function probeOptional() {
  try {
    const zones = await api.zones();
    state.zones = zones;
    const homeZone = zones.find((z) => z.id === "home" || z.source === "home");
    if (homeZone && homeZone.radius_m) state.homeRadiusM = homeZone.radius_m;
  } catch {
    /* no automation engine: keep the default radius */
  }
  try {
    await api.automations();
    automationsAvailable = true;
  } catch (err) {
    // hidden only when the hub has no automation engine (404); other errors show on the page
    automationsAvailable = err.status !== 404;
  }
  ui.autoTab.hidden = !automationsAvailable;
  try {
    await maintenance.readBadge();
    maintenanceAvailable = true;
  } catch (err) {
    maintenance.showBadge(0);
    // hidden only when the hub runs no diagnostics (404); other errors show on the page
    maintenanceAvailable = err.status !== 404;
  }
  ui.maintTab.hidden = !maintenanceAvailable;
}

function onLiveEvent(event) {
  // a reminder sent to the owner's phone: a new one may be waiting (the page reads its own)
  if (maintenanceAvailable && maintenance.isReminderNews(event) && !(currentRoute && currentRoute.startsWith("maintenance?"))) {
    maintenance.readBadge().catch((err) => console.warn("cannot read the reminders", err));
  }
}

// ------------------------------------------------------------------ resync

let resyncing = null;
async function resync({ structure = false } = {}) {
  if (resyncing) return resyncing;
  resyncing = (async () => {
    try {
      const before = [...state.devices.keys()].join(",");
      if (structure) await loadStructure();
      else {
        // availability may have changed while the socket was down
        const devices = await api.devices();
        for (const d of devices) {
          const dev = state.devices.get(d.did);
          if (dev) dev.online = d.online;
        }
        if (devices.map((d) => d.did).sort().join(",") !== [...state.devices.keys()].sort().join(",")) {
          await loadStructure();
        }
      }
      await loadReadings();
      if ([...state.devices.keys()].join(",") !== before || structure) remountAll();
    } catch (err) {
      console.warn("resync failed", err);
    } finally {
      resyncing = null;
    }
  })();
  return resyncing;
}

let registryTimer = null;
function onRegistry() {
  clearTimeout(registryTimer);
  registryTimer = setTimeout(() => resync({ structure: true }), 400);
}

// ------------------------------------------------------------------ routing

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
  const [name, query = ""] = raw.split("?");
  return { name: name || "home", params: new URLSearchParams(query) };
}

function route(force = false) {
  if (!running) return;
  let { name, params } = parseHash();
  const unavailable = (name === "automations" && !automationsAvailable)
    || (name === "maintenance" && !maintenanceAvailable);
  if (!PAGES[name] || unavailable) {
    history_replace("#/home");
    name = "home";
    params = new URLSearchParams();
  }
  if (!force && currentRoute === name + "?" + params) return;
  const changedPage = currentRoute === null || !currentRoute.startsWith(name + "?");
  currentRoute = name + "?" + params;
  if (unmountPage) unmountPage();
  unmountPage = null;
  ui.main.replaceChildren();
  const page = PAGES[name];
  document.title = `${page.title} · trilink`;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.route === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    unmountPage = page.module.mount(ui.main, { params, live, resync }) || null;
  } catch (err) {
    console.error(err);
    ui.main.append(h("p", { class: "error", role: "alert" }, `This page could not be shown: ${err.message}`));
  }
  if (changedPage && !force) ui.main.focus({ preventScroll: true });
}

function history_replace(hash) {
  window.history.replaceState(null, "", hash);
}

function remountAll() {
  if (!running) return;
  if (unmountActivity) unmountActivity();
  unmountActivity = mountActivity(ui.activity);
  route(true);
}

// ------------------------------------------------------------------ connection status

function setConn(status) {
  ui.conn.dataset.state = status;
  ui.conn.textContent = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…";
}

// ------------------------------------------------------------------ session

function showSignIn(message) {
  stop();
  ui.boot.hidden = true;
  ui.shell.hidden = true;
  ui.signin.hidden = false;
  ui.signinError.hidden = !message;
  ui.signinError.textContent = message || "";
  document.title = "Sign in · trilink";
  ui.signinToken.focus();
}

function stop() {
  running = false;
  if (live) live.stop();
  live = null;
  if (unmountPage) unmountPage();
  if (unmountActivity) unmountActivity();
  unmountPage = unmountActivity = null;
  currentRoute = null;
  ui.main.replaceChildren();
}

async function start(me) {
  state.me = me;
  ui.who.textContent = me.role && me.role !== "owner" ? `${me.name} · ${me.role}` : me.name;
  ui.signin.hidden = true;
  ui.boot.hidden = false;
  ui.boot.textContent = "Loading your home…";
  try {
    await loadStructure();
    await Promise.all([loadReadings(), probeOptional()]);
  } catch (err) {
    if (err.status === 401) return showSignIn("Your session ended. Sign in again.");
    ui.boot.replaceChildren(
      h("p", { class: "error", role: "alert" }, `Cannot load the home: ${err.message}`),
      h("button", { class: "btn", type: "button", onclick: () => location.reload() }, "Try again"),
    );
    return;
  }
  ui.boot.hidden = true;
  ui.shell.hidden = false;
  running = true;
  live = new LiveFeed({
    onStatus: setConn,
    resync: () => {
      resync();
      // a reminder may have been sent while the socket was down
      if (maintenanceAvailable) maintenance.readBadge().catch((err) => console.warn("cannot read the reminders", err));
    },
    onRegistry,
    onClosed: async () => {
      try {
        await api.session();
        return true;
      } catch (err) {
        if (err.status === 401) {
          showSignIn("Your session ended. Sign in again.");
          return false;
        }
        return true;
      }
    },
  });
  live.onEvent(onLiveEvent);
  live.start();
  unmountActivity = mountActivity(ui.activity);
  route();
}

function wire() {
  initTheme(document.getElementById("theme-toggle"));
  document.getElementById("skip-link").addEventListener("click", (ev) => {
    ev.preventDefault();
    ui.main.focus();
  });
  window.addEventListener("hashchange", () => route());
  onUnauthorized(() => {
    if (running) showSignIn("Your session ended. Sign in again.");
  });
  ui.signinForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = ui.signinToken.value.trim();
    if (!token) {
      ui.signinError.textContent = "Enter your access token.";
      ui.signinError.hidden = false;
      return;
    }
    const button = ui.signinForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const me = await api.signIn(token);
      ui.signinToken.value = "";
      ui.signinError.hidden = true;
      await start(me);
    } catch (err) {
      ui.signinError.textContent = err.status === 401 ? "That token was not accepted." : err.message;
      ui.signinError.hidden = false;
      ui.signinToken.select();
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("signout").addEventListener("click", async () => {
    try {
      await api.signOut();
    } catch {
      /* signed out locally all the same */
    }
    resetState();
    copilot.reset();
    showSignIn("");
  });
}

async function boot() {
  wire();
  let me;
  try {
    me = await api.session();
  } catch (err) {
    if (err.status === 401) return showSignIn("");
    ui.boot.replaceChildren(
      h("p", { class: "error", role: "alert" }, `Cannot reach the hub: ${err.message}`),
      h("button", { class: "btn", type: "button", onclick: () => location.reload() }, "Try again"),
    );
    return;
  }
  await start(me);
}

boot();
