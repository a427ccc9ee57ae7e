// The k2-sandbox dashboard: what already happened (the journal, the delivery log, the webhook
// events, the SMS), then the live feed of GET /_sandbox/stream, newest first.
"use strict";

// --- how numbers and times read -------------------------------------------------------

const SHILLINGS = new Intl.NumberFormat("en-KE", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/// "KES 1,005,200.00" from "1005200.0".
function kes(amount) {
  const n = Number(amount);
  return Number.isFinite(n) ? "KES " + SHILLINGS.format(n) : String(amount);
}
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/// "7 Dec 2026, 14:21:09" from "2026-12-07T14:21:09.100+03:00": the time the sandbox states
/// (East Africa Time), whatever the browser's zone.
function human(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso || "");
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}, ${m[4]}` : (iso || "");
}

const MAX_ROWS = 500;
const feed = document.getElementById("feed");
const statusEl = document.getElementById("status");
const clockEl = document.getElementById("clock");
const kindFilter = document.getElementById("kind-filter");
let source = null;

// The header clock: the sandbox's time as last read, moving on with the wall clock unless
// the clock is virtual (then only the control plane moves it).
let clockBase = null;
function setClock(now, virtual) {
  const at = Date.parse(now);
  if (Number.isNaN(at)) return;
  clockBase = { at, read: Date.now(), virtual: Boolean(virtual) };
  tick();
}
function tick() {
  if (!clockBase) return;
  const ms = clockBase.at + (clockBase.virtual ? 0 : Date.now() - clockBase.read);
  // In East Africa Time, as the sandbox states every time.
  const eat = new Date(ms + 3 * 3600 * 1000).toISOString().slice(0, 19);
  clockEl.textContent = human(eat) + (clockBase.virtual ? " (virtual)" : "");
  clockEl.title = clockBase.virtual
    ? "Virtual time: it moves only when the clock is advanced or set"
    : "Sandbox time, East Africa Time";
}
setInterval(tick, 1000);

const scopeEl = document.getElementById("scope");

// The application every panel, the stream and the clock are scoped to ("" for all).
function scope() {
  return scopeEl.value;
}

function token() {
  return sessionStorage.getItem("k2-admin-token") || "";
}

// Every control-plane call carries the admin token, if one was given. A refusal throws
// the sandbox's error message.
// Scoped to one application, reads ask for its part only, and changes (a clock move, a
// balance, a handset, a trigger) apply to it.
async function api(path, method = "GET", body = undefined) {
  if (scope() && method === "GET" && !/[?&]client_id=/.test(path)) {
    path += (path.includes("?") ? "&" : "?") + "client_id=" + encodeURIComponent(scope());
  }
  if (scope() && body && typeof body === "object" && !("client_id" in body)) {
    body = { ...body, client_id: scope() };
  }
  // A field left empty is not sent (the control plane's documents have no nulls).
  if (body && typeof body === "object" && !Array.isArray(body)) {
    body = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  }
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    askForToken();
    throw new Error("the control plane needs the admin token");
  }
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error_message || response.statusText);
  return answer;
}

function askForToken() {
  document.getElementById("token-prompt").hidden = false;
  ["tabs", "activity", "phone", "callbacks", "money", "clock-panel", "scenarios", "trigger", "applications"].forEach((id) => { document.getElementById(id).hidden = true; });
  statusEl.textContent = "admin token needed";
  document.getElementById("token-input").focus();
}

document.getElementById("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("k2-admin-token", document.getElementById("token-input").value);
  document.getElementById("token-prompt").hidden = true;
  document.getElementById("tabs").hidden = false;
  show(tabs.find((t) => t.getAttribute("aria-selected") === "true"));
  start();
});

function summary(kind, d) {
  switch (kind) {
    case "request":
      return `${d.method} ${d.path}${d.query ? "?" + d.query : ""} → ${d.status} (${d.latency_ms.toFixed(1)} ms)` +
        (d.error ? ` — ${d.error}` : "");
    case "resource": return `${d.type} ${d.id} → ${d.status}`;
    case "callback":
      return `attempt ${d.attempt} to ${d.url} → ${d.status ?? d.error} (${d.outcome})`;
    case "webhook": return `${d.topic} ${d.id}${d.till_number ? " till " + d.till_number : ""}`;
    case "sms": return `SMS to ${d.phone_number}: ${d.message}`;
    case "prompt": return `STK prompt on ${d.phone_number} ${d.status} (incoming payment ${d.id})`;
    case "clock": return `clock advanced ${d.by_ms} ms${d.client_id ? " for " + d.client_id : ""}`;
    case "scenario": return `scenario ${d.name} ${d.action}`;
    default: return JSON.stringify(d);
  }
}

function failed(kind, d) {
  if (kind === "request") return d.status >= 400;
  if (kind === "callback") return d.outcome !== "delivered";
  if (kind === "resource") return d.status === "Failed";
  return false;
}

// Recent events, oldest first: a resource's states over time come from here.
const history = [];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/// The resource an event is about, if any.
function resourceOf(event) {
  const d = event.data;
  if (event.kind === "resource" || event.kind === "prompt") return d.id;
  if (event.kind === "callback") return d.resource && d.resource.id;
  if (event.kind === "request") { const m = d.path.match(UUID); return m && m[0]; }
  return null;
}

/// The status a delivery's body reports (a result callback's), or null (a webhook, a probe).
function reportedStatus(d) {
  try { return JSON.parse(d.body).data.attributes.status ?? null; } catch { return null; }
}

/// The one row a table shows while it has nothing else.
function emptyRow(columns, text) {
  return el("tr", { className: "empty" }, el("td", { colSpan: columns, textContent: text }));
}

function pretty(text) {
  if (!text) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

/// An item of the feed in full: the request and response, the resource's results (from the
/// history loaded and the stream since), and every callback it caused with its attempts,
/// signature and body.
async function showDetail(event) {
  const box = document.getElementById("detail");
  const body = document.getElementById("detail-body");
  document.getElementById("detail-title").textContent = summary(event.kind, event.data);
  box.hidden = false;
  body.replaceChildren(el("p", { className: "hint", textContent: "Loading…" }));
  const parts = [];
  try {
    if (event.kind === "request" && event.data.journal != null) {
      const { requests } = await api(`/_sandbox/requests?cursor=${event.data.journal + 1}&limit=1&by=all`);
      const r = requests.find((x) => x.sequence === event.data.journal);
      if (r) {
        parts.push(el("h4", { textContent: "Request" }),
          el("pre", { textContent: `${r.method} ${r.path}${r.query ? "?" + r.query : ""}` +
            (r.request_body ? "\n\n" + pretty(r.request_body) : "") }),
          el("h4", { textContent: `Response ${r.status} in ${r.latency_ms} ms` }),
          el("pre", { textContent: pretty(r.response_body) || "(no body)" }));
      } else {
        parts.push(el("p", { className: "none", textContent: "No longer in the request journal." }));
      }
    }
    const id = resourceOf(event);
    if (id) {
      // Its whole history, whatever the feed shows: its results (each reported by a callback),
      // prompts and other events seen, the requests that named it, every callback.
      const [{ deliveries: mine }, { requests }] = await Promise.all([
        api(`/_sandbox/callbacks?resource=${id}&limit=1000`),
        api("/_sandbox/requests?by=all&limit=1000"),
      ]);
      // Its results as each callback reported them, and what the feed saw (prompts, results).
      const results = mine.flatMap((d) => {
        const status = reportedStatus(d);
        return status ? [{ at: d.created_at, text: summary("resource", { type: d.resource.type, id, status }) }] : [];
      });
      const seen = history.filter((e) => ["prompt", "resource"].includes(e.kind) && resourceOf(e) === id)
        .map((e) => ({ at: e.at, text: summary(e.kind, e.data) }))
        .filter((e) => !results.some((r) => r.text === e.text));
      const states = [...results, ...seen].sort((a, b) => (a.at < b.at ? -1 : 1));
      parts.push(el("h4", { textContent: `Resource ${id}` }));
      parts.push(states.length
        ? el("ol", { className: "states" }, ...states.map((e) => el("li", { textContent: `${e.at.slice(11, 23)} ${e.text}` })))
        : el("p", { className: "none", textContent: "No result yet." }));
      const asked = requests.filter((r) => r.path.includes(id)).reverse();
      if (asked.length) {
        parts.push(el("h4", { textContent: "Requests naming it" }),
          el("ol", { className: "states" }, ...asked.map((r) => el("li", {
            textContent: `${r.at.slice(11, 23)} ${r.method} ${r.path} → ${r.status}` }))));
      }
      parts.push(el("h4", { textContent: "Callbacks" }));
      if (!mine.length) parts.push(el("p", { className: "none", textContent: "No callback for it." }));
      mine.forEach((d) => parts.push(el("div", { className: "delivery" },
        el("p", { textContent: `${d.state}: ${d.target}` }),
        el("ol", {}, ...d.attempts.map((a) => el("li", {
          textContent: `${a.at.slice(11, 23)} → ${a.status ?? a.error} in ${a.latency_ms} ms` }))),
        el("code", { className: "sig", textContent: "X-KopoKopo-Signature: " + d.signature }),
        el("pre", { textContent: pretty(d.body) }))));
    }
    if (!parts.length) parts.push(el("pre", { textContent: JSON.stringify(event.data, null, 2) }));
  } catch (failure) {
    parts.push(el("p", { className: "error", textContent: failure.message }));
  }
  body.replaceChildren(...parts);
  box.focus();
}

document.getElementById("detail-close").addEventListener("click", () => {
  document.getElementById("detail").hidden = true;
});

function add(event) {
  // A new application (an auto-tenant's first token): the switch lists it.
  if (event.client_id && ![...scopeEl.options].some((o) => o.value === event.client_id)) {
    loadApplications().catch(() => {});
  }
  history.push(event);
  if (history.length > MAX_ROWS) history.shift();
  if (["prompt", "sms", "resource", "callback", "webhook", "clock", "scenario"].includes(event.kind)) refresh();
  if (event.kind === "clock") api("/_sandbox/clock").then((c) => setClock(c.now, c.virtual)).catch(() => {});
  const empty = feed.querySelector(".empty");
  if (empty) empty.remove();
  const row = document.createElement("tr");
  row.dataset.kind = event.kind;
  const cells = [event.at.slice(11, 23), null, event.client_id || "—", summary(event.kind, event.data)];
  cells.forEach((text, i) => {
    const cell = document.createElement("td");
    if (i === 1) {
      const badge = document.createElement("span");
      badge.className = "kind";
      badge.textContent = event.kind;
      cell.appendChild(badge);
    } else if (i === 3) {
      // The whole item, on a click or Enter.
      const open = el("button", { type: "button", className: "item", textContent: text });
      open.addEventListener("click", () => showDetail(event));
      if (event.kind === "request") open.dataset.path = event.data.path;
      cell.appendChild(open);
    } else {
      cell.textContent = text;
    }
    if (i === 3) cell.className = "what" + (failed(event.kind, event.data) ? " failed" : "");
    row.appendChild(cell);
  });
  feed.prepend(row);
  while (feed.rows.length > MAX_ROWS) feed.deleteRow(-1);
}

/// The error message of a journaled answer, as the live feed shows it.
function errorOf(r) {
  if (r.status < 400) return undefined;
  try { return JSON.parse(r.response_body).error_message; } catch { return undefined; }
}

/// What happened before now (the page opened, was reloaded, the filter or the application
/// changed), newest first from the server, as feed events oldest first: the journal, the
/// delivery log (every attempt, and each result it reported), the webhook events and the SMS.
async function loadHistory() {
  const kinds = kindFilter.value ? [kindFilter.value] : ["request", "resource", "callback", "webhook", "sms"];
  const want = (k) => kinds.includes(k);
  const none = Promise.resolve(null);
  const [requests, deliveries, webhooks, messages] = await Promise.all([
    want("request") ? api("/_sandbox/requests?by=all&limit=200") : none,
    want("callback") || want("resource") ? api("/_sandbox/callbacks?limit=200") : none,
    want("webhook") ? api("/_sandbox/events?limit=200") : none,
    want("sms") ? api("/_sandbox/sms?limit=200") : none,
  ]);
  const events = [];
  (requests?.requests || []).forEach((r) => events.push({ kind: "request", at: r.at, client_id: r.client_id,
    data: { method: r.method, path: r.path, query: r.query, status: r.status, latency_ms: r.latency_ms,
      journal: r.sequence, by: r.by, error: errorOf(r) } }));
  (deliveries?.deliveries || []).forEach((d) => {
    const status = reportedStatus(d);
    if (want("resource") && status && d.resource.type !== "receiver_probe") {
      events.push({ kind: "resource", at: d.created_at, client_id: d.client_id,
        data: { type: d.resource.type, id: d.resource.id, status } });
    }
    if (want("callback")) {
      d.attempts.forEach((a, i) => events.push({ kind: "callback", at: a.at, client_id: d.client_id,
        data: { delivery: d.id, resource: d.resource, url: d.target, attempt: a.attempt, status: a.status,
          error: a.error, latency_ms: a.latency_ms,
          outcome: i < d.attempts.length - 1 || d.state === "pending" ? "will retry" : d.state } }));
    }
  });
  (webhooks?.events || []).forEach((e) => events.push({ kind: "webhook", at: e.created_at, client_id: e.client_id,
    data: { id: e.id, topic: e.topic, till_number: e.till_number } }));
  (messages?.messages || []).forEach((m) => events.push({ kind: "sms", at: m.sent_at, client_id: m.client_id,
    data: { id: m.id, phone_number: m.phone_number, message: m.message } }));
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return events;
}

/// What identifies an event, so that one in both the history and the stream shows once.
function keyOf(e) {
  const d = e.data;
  switch (e.kind) {
    case "request": return d.journal != null ? "request " + d.journal : null;
    case "callback": return `callback ${d.delivery} ${d.attempt}`;
    case "resource": return `resource ${d.id} ${d.status}`;
    case "webhook": case "sms": return `${e.kind} ${d.id}`;
    default: return null;
  }
}

function start() {
  if (source) source.close();
  // The stream first, its events held while the history loads, so that nothing that happens
  // in between is missed or shown twice.
  const held = [];
  let loaded = false;
  const seen = new Set();
  const arrive = (event) => {
    if (!loaded) { held.push(event); return; }
    const key = keyOf(event);
    if (key && seen.has(key)) return;
    add(event);
  };
  feed.replaceChildren(emptyRow(4, "Loading what happened…"));
  history.length = 0;
  const params = new URLSearchParams();
  if (kindFilter.value) params.set("kind", kindFilter.value);
  if (scope()) params.set("client_id", scope());
  if (token()) params.set("token", token());
  source = new EventSource("/_sandbox/stream?" + params);
  source.onopen = () => { statusEl.textContent = "live"; };
  source.onerror = () => {
    statusEl.textContent = "reconnecting…";
    // A refused stream is a missing or wrong token: ask once.
    api("/_sandbox/clock").catch(() => source.close());
  };
  ["request", "resource", "callback", "webhook", "sms", "prompt", "clock", "scenario"].forEach((kind) =>
    source.addEventListener(kind, (m) => arrive(JSON.parse(m.data))));
  const opened = source;
  loadHistory().catch(() => []).then((past) => {
    if (source !== opened) return;
    feed.replaceChildren(emptyRow(4, scope() ? `Nothing yet for ${scope()}.` : "Nothing yet: make a request to the API."));
    past.forEach((event) => { const key = keyOf(event); if (key) seen.add(key); add(event); });
    loaded = true;
    held.splice(0).forEach(arrive);
  });
  source.addEventListener("missed", (m) => {
    const notice = document.getElementById("missed");
    notice.hidden = false;
    notice.textContent = `Missed ${JSON.parse(m.data).missed} events: the page fell behind.`;
  });
  api("/_sandbox/clock").then((c) => setClock(c.now, c.virtual)).catch(() => {});
  loadApplications().catch(() => {});
}

// --- panels -------------------------------------------------------------------------

const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
function show(tab) {
  tabs.forEach((t) => {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
  });
  refresh();
}
tabs.forEach((t, i) => {
  t.addEventListener("click", () => show(t));
  t.addEventListener("keydown", (e) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    next.focus();
    show(next);
  });
});

// A change made from a panel: the call, then the panel reloaded; a refusal's message shown
// in the panel's error line (`errorId`) until the next change succeeds.
async function change(errorId, reload, path, method, body) {
  const error = document.getElementById(errorId);
  try {
    await api(path, method, body);
    error.hidden = true;
    reload();
  } catch (failure) {
    error.hidden = false;
    error.textContent = failure.message;
  }
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  children.forEach((c) => node.append(c));
  return node;
}

const ANSWERS = [["pay", "Pay"], ["wrong_pin", "Wrong PIN"], ["cancel", "Cancel"], ["timeout", "Let it time out"]];

async function loadPrompts() {
  const { prompts } = await api("/_sandbox/prompts");
  const box = document.getElementById("prompts");
  box.replaceChildren();
  if (!prompts.length) box.append(el("p", { className: "none", textContent: "No prompt is waiting." }));
  prompts.forEach((p) => {
    const answers = el("div", { className: "answers" });
    ANSWERS.forEach(([answer, label], i) => {
      const button = el("button", { type: "button", textContent: label, className: i ? "secondary" : "" });
      button.setAttribute("aria-label", `${label}: ${p.phone_number}, ${kes(p.amount)}`);
      button.addEventListener("click", async () => {
        await api(`/_sandbox/prompts/${p.id}/${answer}`, "POST");
        refresh();
      });
      answers.append(button);
    });
    box.append(el("article", { className: "handset" },
      el("h3", { textContent: p.phone_number }),
      el("p", { textContent: `Pay ${kes(p.amount)} to till ${p.till_number}? Enter your M-PESA PIN.` }),
      answers));
  });
}

async function loadHandsets() {
  const [h, outbox] = await Promise.all([api("/_sandbox/handsets"), api("/_sandbox/sms?limit=20")]);
  const rows = [
    ...h.settings.map((s) => [s.phone_number, s.behaviour, s.client_id ? "you, for " + s.client_id : "you"]),
    ...h.magic_numbers.map((m) => [m.phone_number, m.behaviour, "magic number"]),
  ];
  document.getElementById("handsets").replaceChildren(...rows.map((cells) =>
    el("tr", {}, ...cells.map((c) => el("td", { textContent: c })))));
  const sms = document.getElementById("sms");
  sms.replaceChildren();
  if (!outbox.messages.length) sms.append(el("p", { className: "none", textContent: "No SMS yet." }));
  outbox.messages.forEach((m) => sms.append(el("article", { className: "sms" },
    el("p", { className: "sms-to", textContent: `To ${m.phone_number} · ${human(m.sent_at)}` }),
    el("p", { className: "sms-text", textContent: m.message }))));
}

document.getElementById("handset-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const phone = document.getElementById("handset-phone").value.trim();
  change("handset-error", loadHandsets, `/_sandbox/handsets/${encodeURIComponent(phone)}`, "PUT",
    { behaviour: document.getElementById("handset-behaviour").value });
});

// The Callbacks panel: the delivery log, newest first, filtered by state and URL, a page at a
// time ("Older" follows the cursor); each delivery with its resource, every attempt, the
// signature and the exact body.
let callbacksCursor = null;
async function loadCallbacks(more = false) {
  const params = new URLSearchParams({ limit: "25" });
  const state = document.getElementById("callback-state").value;
  const url = document.getElementById("callback-url").value.trim();
  if (state) params.set("status", state);
  if (url) params.set("url", url);
  if (more && callbacksCursor) params.set("cursor", callbacksCursor);
  const { deliveries, next_cursor } = await api("/_sandbox/callbacks?" + params);
  callbacksCursor = next_cursor;
  document.getElementById("callbacks-older").hidden = !next_cursor;
  const body = document.getElementById("deliveries");
  if (!more) body.replaceChildren();
  if (!more && !deliveries.length) {
    body.append(emptyRow(6, state || url ? "No callback matches." : "No callback yet."));
  }
  deliveries.forEach((d) => {
    const replay = el("button", { type: "button", textContent: "Replay" });
    replay.setAttribute("aria-label", `Replay the ${d.resource.type} callback to ${d.target}`);
    replay.addEventListener("click", async () => {
      await api(`/_sandbox/callbacks/${d.id}/replay`, "POST");
      refresh();
    });
    const attempts = d.attempts.length
      ? el("ol", { className: "attempts" }, ...d.attempts.map((a) => el("li", {
        textContent: `${a.at.slice(11, 19)} → ${a.status ?? a.error} (${a.latency_ms} ms)` })))
      : el("span", { textContent: "none yet" });
    // What to do about the failures, once (every attempt to the URL fails the same way).
    const hint = d.attempts.map((a) => a.hint).find(Boolean);
    const sent = el("details", { className: "body" }, el("summary", { textContent: "Body sent" }),
      el("pre", { textContent: pretty(d.body) }));
    body.append(el("tr", { className: "delivery" },
      el("td", { textContent: human(d.created_at) }),
      el("td", {}, d.resource.type, el("span", { className: "id", textContent: d.resource.id })),
      el("td", { className: "state-" + d.state, textContent: d.state }),
      el("td", {}, attempts, hint ? el("p", { className: "hint", textContent: hint }) : ""),
      el("td", {}, d.target,
        d.requested_target ? el("span", { className: "sig", textContent: "asked for " + d.requested_target }) : "",
        el("span", { className: "sig", textContent: "X-KopoKopo-Signature: " + (d.signature || "(none)") }), sent),
      el("td", {}, replay)));
  });
}

document.getElementById("callback-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  loadCallbacks().catch(() => {});
});
document.getElementById("callback-state").addEventListener("change", () => loadCallbacks().catch(() => {}));
document.getElementById("callbacks-older").addEventListener("click", () => loadCallbacks(true).catch(() => {}));

document.getElementById("replay-exhausted").addEventListener("click", async () => {
  await api("/_sandbox/callbacks/replay?status=exhausted", "POST");
  refresh();
});

async function loadMoney() {
  const [b, l] = await Promise.all([api("/_sandbox/balances"), api("/_sandbox/ledger?limit=20")]);
  const rows = [["company", b.company], ...Object.entries(b.tills).map(([till, v]) => ["till " + till, v])];
  document.getElementById("balances").replaceChildren(...rows.map(([account, balance]) =>
    el("tr", {}, el("td", { textContent: account }), el("td", { className: "num", textContent: kes(balance) }))));
  document.getElementById("ledger").replaceChildren(...l.entries.map((e) =>
    el("tr", {},
      el("td", { textContent: human(e.at) }),
      el("td", { textContent: e.account.replace(":", " ") }),
      el("td", { className: "num", textContent: kes(e.amount) }),
      el("td", { className: "num", textContent: kes(e.balance_after) }),
      el("td", { textContent: e.memo }))));
}

document.getElementById("balance-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const account = document.getElementById("balance-account").value.trim();
  change("balance-error", loadMoney, "/_sandbox/balances", "PUT", {
    till_number: account && account !== "company" ? account : null,
    balance: document.getElementById("balance-amount").value,
  });
});

async function loadClock() {
  const c = await api("/_sandbox/clock");
  document.getElementById("clock-now").textContent = c.now;
  const ahead = c.advanced_ms ? `, ${c.advanced_ms / 1000} s ahead` : "";
  document.getElementById("clock-mode").textContent = `(${c.virtual ? "virtual" : "real time"}${ahead})`;
  document.getElementById("clock-whose").textContent = c.client_id
    ? `${c.client_id}'s clock: moving it moves no other application's.`
    : "The shared clock: every application reads it (plus its own lead).";
  setClock(c.now, c.virtual);
}

function moveClock(path, body) {
  return change("clock-error", loadClock, path, "POST", body);
}

document.querySelectorAll("[data-advance]").forEach((b) =>
  b.addEventListener("click", () => moveClock("/_sandbox/clock/advance", { by: b.dataset.advance })));
document.getElementById("clock-form").addEventListener("submit", (e) => {
  e.preventDefault();
  moveClock("/_sandbox/clock/set", { to: document.getElementById("clock-to").value.trim() });
});

async function loadScenarios() {
  const { scenarios } = await api("/_sandbox/scenarios");
  const body = document.getElementById("scenario-list");
  body.replaceChildren();
  if (!scenarios.length) body.append(emptyRow(6, "No scenario loaded."));
  scenarios.forEach((s) => {
    const unload = el("button", { type: "button", textContent: "Unload", className: "secondary" });
    unload.setAttribute("aria-label", `Unload ${s.name}`);
    unload.addEventListener("click", async () => {
      await api(`/_sandbox/scenarios/${encodeURIComponent(s.name)}`, "DELETE");
      loadScenarios();
    });
    const v = s.probe_verdicts;
    body.append(el("tr", {},
      el("td", { textContent: s.name }),
      el("td", { textContent: s.source }),
      el("td", { textContent: `${s.rules} / ${s.faults} / ${s.callback_faults}` }),
      el("td", { textContent: `${s.timeline_pending} of ${s.timeline}` }),
      el("td", { textContent: `${v.passed} passed, ${v.failed} failed, ${v.waiting} waiting` }),
      el("td", {}, unload)));
  });
}

let scenarioSource = "(dashboard)";
document.getElementById("scenario-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  document.getElementById("scenario-text").value = await file.text();
  scenarioSource = file.name;
});

document.getElementById("scenario-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = document.getElementById("scenario-text").value;
  const headers = { "Content-Type": "application/yaml" };
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch("/_sandbox/scenarios?source=" + encodeURIComponent(scenarioSource),
    { method: "POST", headers, body: text });
  const answer = await response.json();
  const problem = document.getElementById("scenario-problem");
  if (response.ok) {
    problem.hidden = true;
    document.getElementById("scenario-loaded").textContent = `Loaded ${answer.scenarios.join(", ")}.`;
    loadScenarios();
    return;
  }
  // "<source>:<line>:<column>: <field>: <message>": the line is shown in the text.
  const message = String(answer.error_message);
  const at = message.match(/:(\d+):(\d+): (.*)$/);
  const line = at ? Number(at[1]) : 0;
  document.getElementById("scenario-message").textContent =
    at ? `Line ${at[1]}, column ${at[2]}: ${at[3]}` : message;
  document.getElementById("scenario-lines").replaceChildren(...text.split("\n").map((l, i) =>
    el("li", { className: i + 1 === line ? "bad" : "", textContent: l || " " })));
  document.getElementById("scenario-loaded").textContent = "";
  problem.hidden = false;
  problem.scrollIntoView({ block: "nearest" });
});

document.getElementById("trigger-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = (id) => document.getElementById(id).value.trim() || null;
  const result = document.getElementById("trigger-result");
  try {
    const fired = await api("/_sandbox/events", "POST", {
      type: value("trigger-type"), till_number: value("trigger-till"), amount: value("trigger-amount"),
      phone_number: value("trigger-phone"), transaction: value("trigger-transaction"),
    });
    const reference = fired.payload?.event?.resource?.reference;
    result.className = "";
    result.textContent = `Fired ${fired.topic} ${fired.id}` + (reference ? ` (reference ${reference})` : "") +
      `: ${fired.deliveries} ${fired.deliveries === 1 ? 'delivery' : 'deliveries'} queued.`;
  } catch (failure) {
    result.className = "error";
    result.textContent = failure.message;
  }
});

// The open panel follows the feed: changes within 50 ms reload it once.
let pending = null;
function refresh() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    if (!document.getElementById("phone").hidden) {
      loadPrompts().catch(() => {});
      loadHandsets().catch(() => {});
    }
    if (!document.getElementById("callbacks").hidden) loadCallbacks().catch(() => {});
    if (!document.getElementById("money").hidden) loadMoney().catch(() => {});
    if (!document.getElementById("clock-panel").hidden) loadClock().catch(() => {});
    if (!document.getElementById("scenarios").hidden) loadScenarios().catch(() => {});
    if (!document.getElementById("applications").hidden) loadApplications().catch(() => {});
  }, 50);
}

kindFilter.addEventListener("change", start);
start();

// --- applications -------------------------------------------------------------------

async function loadApplications() {
  const { auto_tenants, applications } = await api("/_sandbox/applications");
  document.getElementById("tenants-hint").textContent = auto_tenants
    ? "--auto-tenants: an application appears with its first token request. Scope every panel to one below or in the header."
    : "One application, configured at start-up. Run with --auto-tenants to give every client id its own world.";
  const chosen = scope();
  scopeEl.replaceChildren(el("option", { value: "", textContent: "all applications" }),
    ...applications.map((a) => el("option", { value: a.client_id, textContent: a.client_id })));
  scopeEl.value = applications.some((a) => a.client_id === chosen) ? chosen : "";
  document.getElementById("application-list").replaceChildren(...applications.map((a) => {
    const only = el("button", { type: "button", textContent: a.client_id === scope() ? "Shown" : "Show only this one" });
    only.setAttribute("aria-label", `Show only ${a.client_id}`);
    only.disabled = a.client_id === scope();
    only.addEventListener("click", () => { scopeEl.value = a.client_id; scopeChanged(); });
    return el("tr", {},
      el("td", { textContent: a.client_id }),
      el("td", { textContent: a.auto_provisioned ? "auto-provisioned" : "configured" }),
      el("td", { textContent: a.now }),
      el("td", {}, only));
  }));
}

function scopeChanged() {
  document.getElementById("detail").hidden = true;
  start();
  refresh();
}

scopeEl.addEventListener("change", scopeChanged);
scopeEl.addEventListener("focus", () => loadApplications().catch(() => {}));
