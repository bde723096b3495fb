/* Copilot: a chat with the hub. Each message is POST /api/copilot/say {text, room?}; the
   reply's text is shown. A reply with status needs_confirmation gets Confirm and Cancel
   buttons (POST / DELETE /api/copilot/confirm/{confirmation_id}). The conversation lives
   as long as the page is open in this tab (sessionStorage), so moving between tabs keeps it. */

import { h, nextId } from "../dom.js";
import { api } from "../api.js";
import { state } from "../store.js";

const KEY = "trilink-copilot";
let log = []; // [{who: "me"|"hub", text, meta?, confirmation_id?, settled?}]

function restore() {
  try {
    log = JSON.parse(sessionStorage.getItem(KEY) || "[]");
  } catch {
    log = [];
  }
}

function persist() {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(log.slice(-50)));
  } catch {
    /* the chat still works, it just is not kept */
  }
}

function metaOf(reply) {
  const bits = [];
  if (reply.status && reply.status !== "answered" && reply.status !== "done") bits.push(reply.status.replace(/_/g, " "));
  const failed = (reply.results || []).filter((r) => r.ok === false);
  for (const r of failed) bits.push(`failed: ${r.error || r.did || ""}`);
  return bits.join(" · ");
}

/** Forget the conversation (on sign-out). */
export function reset() {
  log = [];
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing kept */
  }
}

export function mount(main) {
  if (!log.length) restore();
  const chat = h("ol", { class: "chat", role: "log", "aria-live": "polite", "aria-label": "Conversation", "data-testid": "copilot-log" });
  const inputId = nextId("say");
  const input = h("input", { type: "text", id: inputId, "data-testid": "copilot-input", autocomplete: "off",
    placeholder: "e.g. set the living room to 24 degrees", maxlength: "2000", enterkeyhint: "send" });
  const send = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "copilot-send" }, "Send");
  const roomId = nextId("room");
  const roomSelect = h("select", { id: roomId, "data-testid": "copilot-room" },
    h("option", { value: "" }, "not said"),
    (state.home ? state.home.rooms : []).map((r) => h("option", { value: r.id }, r.name)));
  const form = h("form", { class: "chat-form" },
    h("label", { for: inputId, class: "sr-only" }, "Ask the hub or tell it what to do"),
    input, send,
    h("div", { class: "room-pick" }, h("label", { for: roomId }, "I am in"), roomSelect));

  main.append(h("div", { class: "page-head" }, h("h1", {}, "Copilot"),
    h("span", { class: "muted small" }, "Ask a question or say what to do, in your words.")), chat, form);

  const render = () => {
    const latest = lastHub();
    chat.replaceChildren(...log.map((entry, i) => bubble(entry, i === latest)));
  };
  const lastHub = () => {
    for (let i = log.length - 1; i >= 0; i -= 1) if (log[i].who === "hub") return i;
    return -1;
  };

  function bubble(entry, latest) {
    const li = h("li", { class: `bubble ${entry.who}` });
    if (entry.who === "hub") {
      li.append(h("span", { class: "sr-only" }, "Hub: "));
      const text = h("span", {}, entry.text);
      if (latest) text.dataset.testid = "copilot-reply";
      li.append(text);
      if (entry.meta) li.append(h("p", { class: "meta" }, entry.meta));
      // only the newest reply can be confirmed; a later question supersedes an older plan
      if (entry.confirmation_id && !entry.settled && latest) li.append(confirmButtons(entry));
    } else {
      li.append(h("span", { class: "sr-only" }, "You: "), entry.text);
    }
    return li;
  }

  function confirmButtons(entry) {
    const err = h("p", { class: "error", role: "alert", hidden: true });
    const yes = h("button", { type: "button", class: "btn btn-primary btn-small", "data-testid": "copilot-confirm" }, "Confirm");
    const no = h("button", { type: "button", class: "btn btn-small", "data-testid": "copilot-cancel" }, "Cancel");
    const settle = async (confirm) => {
      yes.disabled = no.disabled = true;
      try {
        if (confirm) {
          const reply = await api.confirm(entry.confirmation_id);
          entry.settled = "confirmed";
          log.push({ who: "hub", text: reply.text || "Done.", meta: metaOf(reply) });
        } else {
          await api.cancel(entry.confirmation_id);
          entry.settled = "cancelled";
          log.push({ who: "hub", text: "Cancelled; nothing was changed." });
        }
        persist();
        render();
        input.focus();
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
        if (e.status === 404) {
          entry.settled = "expired";
          persist();
        } else yes.disabled = no.disabled = false;
      }
    };
    yes.addEventListener("click", () => settle(true));
    no.addEventListener("click", () => settle(false));
    return h("div", {}, h("div", { class: "actions" }, yes, no), err);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    log.push({ who: "me", text });
    input.value = "";
    render();
    send.disabled = true;
    send.setAttribute("aria-busy", "true");
    try {
      const reply = await api.say(text, roomSelect.value || undefined);
      log.push({ who: "hub", text: reply.text || "(no answer)", meta: metaOf(reply),
        confirmation_id: reply.status === "needs_confirmation" ? reply.confirmation_id : null });
    } catch (e) {
      const plan = e.details && e.details.plan;
      log.push({ who: "hub", text: e.message, meta: plan ? "not allowed for your role" : `error: ${e.code}` });
    } finally {
      send.disabled = false;
      send.removeAttribute("aria-busy");
    }
    persist();
    render();
    const last = chat.lastElementChild;
    if (last) last.scrollIntoView({ block: "nearest" });
    if (!chat.querySelector("[data-testid=copilot-confirm]")) input.focus();
  });

  render();
  if (!log.length) {
    chat.append(h("li", { class: "bubble hub muted" }, "Try: “turn on the kitchen light”, “how warm is the bedroom?”, “unlock the front door”."));
  }
  setTimeout(() => input.focus({ preventScroll: true }), 0);
  return () => {};
}
