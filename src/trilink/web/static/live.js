/* The live feed: one WebSocket to /api/ws (the session cookie authenticates it), each
   message a kernel event handed to the store. When the socket drops it reconnects with
   exponential backoff and jitter (0.5 s doubling to 30 s); after a reconnect, or when the
   hub says events were dropped, the caller's resync() re-reads state over REST. */

import { applyEvent, stats } from "./store.js";

const MIN_DELAY = 500;
const MAX_DELAY = 30000;

export class LiveFeed {
  /**
   * @param {object} hooks
   *   onStatus(state)  "connecting" | "live" | "offline"
   *   resync()         re-read state (after a reconnect or a gap)
   *   onRegistry(ev)   a device, room or person was added or removed
   *   onClosed()       the socket closed; returns a promise of whether to keep trying
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.ws = null;
    this.delay = MIN_DELAY;
    this.timer = null;
    this.stopped = true;
    this.needResync = false;
    this.resyncTimer = null;
    this.listeners = new Set();
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000, "signed out");
      this.ws = null;
    }
  }

  /** fn(event) for every raw event (used by pages that want events, not state). */
  onEvent(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  connect() {
    if (this.stopped) return;
    this.hooks.onStatus("connecting");
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/ws";
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.delay = MIN_DELAY;
      this.hooks.onStatus("live");
      if (this.needResync) this.hooks.resync();
      this.needResync = false;
    };
    ws.onmessage = (msg) => {
      stats.messages += 1;
      let event;
      try {
        event = JSON.parse(msg.data);
      } catch {
        return;
      }
      if (event.kind === "dropped") {
        this.scheduleResync();
        return;
      }
      applyEvent(event);
      if (event.kind === "registry") this.hooks.onRegistry(event);
      if (this.listeners.size) for (const fn of this.listeners) fn(event);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      this.hooks.onStatus("offline");
      Promise.resolve(this.hooks.onClosed()).then((keepTrying) => {
        if (keepTrying !== false) this.retry();
      });
    };
  }

  retry() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // events were missed while the socket was down: the next open re-reads state
    this.needResync = true;
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  scheduleResync() {
    // many "dropped" notices in a burst cause one re-read
    if (this.resyncTimer) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      this.hooks.resync();
    }, 300);
  }
}
