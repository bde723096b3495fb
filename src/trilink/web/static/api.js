/* The hub's REST API over fetch: the session cookie rides along (same origin), every
   request carries X-Trilink-Request (the server's CSRF check), JSON in and out. Errors
   come back as ApiError with the hub's {"error": {code, message, …}} fields. A 401 on any
   call other than the session check tells app.js to show the sign-in page. */

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `the hub answered ${status}`);
    this.status = status;
    this.code = err.code || "http-" + status;
    this.details = err;
  }
}

const unauthorizedListeners = new Set();

/** Call fn() whenever a request is refused with 401 (the session ended). */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/** fetch + JSON; resolves to the parsed body (null for 204), rejects with ApiError. */
export async function request(method, path, body, { quiet401 = false } = {}) {
  const headers = { "X-Trilink-Request": "1", Accept: "application/json" };
  const init = { method, credentials: "same-origin", headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { error: { code: "network", message: "cannot reach the hub" } });
  }
  const text = response.status === 204 ? "" : await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !quiet401) unauthorizedListeners.forEach((fn) => fn());
    throw new ApiError(response.status, data);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  session: () => request("GET", "/api/session", undefined, { quiet401: true }),
  signIn: (token) => request("POST", "/api/session", { token }, { quiet401: true }),
  signOut: () => request("DELETE", "/api/session", undefined, { quiet401: true }),

  homes: () => request("GET", "/api/homes"),
  zones: () => request("GET", "/api/zones"),
  devices: () => request("GET", "/api/devices"),
  device: (did) => request("GET", `/api/devices/${enc(did)}`),
  spec: (did) => request("GET", `/api/devices/${enc(did)}/spec`),
  setProperty: (did, siid, piid, value) =>
    request("PUT", `/api/devices/${enc(did)}/properties/${siid}.${piid}`, { value }),
  callAction: (did, siid, aiid, args = []) =>
    request("POST", `/api/devices/${enc(did)}/actions/${siid}.${aiid}`, { in: args }),
  history: (did, siid, piid, { since, until, limit } = {}) => {
    const q = new URLSearchParams();
    if (since !== undefined) q.set("since", String(since));
    if (until !== undefined) q.set("until", String(until));
    if (limit !== undefined) q.set("limit", String(limit));
    const qs = q.toString();
    return request("GET", `/api/devices/${enc(did)}/history/${siid}.${piid}${qs ? "?" + qs : ""}`);
  },

  automations: () => request("GET", "/api/automations"),
  setAutomationEnabled: (id, on) => request("POST", `/api/automations/${enc(id)}/${on ? "enable" : "disable"}`),
  runAutomation: (id) => request("POST", `/api/automations/${enc(id)}/run`),
  traces: (id, limit = 5) => request("GET", `/api/automations/${enc(id)}/traces?limit=${limit}`),

  say: (text, room) => request("POST", "/api/copilot/say", room ? { text, room } : { text }),
  confirm: (cid) => request("POST", `/api/copilot/confirm/${enc(cid)}`),
  cancel: (cid) => request("DELETE", `/api/copilot/confirm/${enc(cid)}`),
};
