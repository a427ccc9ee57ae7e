// The k2-sandbox dashboard: the live feed of GET /_sandbox/stream, newest first.
"use strict";

const MAX_ROWS = 500;
const feed = document.getElementById("feed");
const statusEl = document.getElementById("status");
const clockEl = document.getElementById("clock");
const kindFilter = document.getElementById("kind-filter");
let source = null;

function token() {
  return sessionStorage.getItem("k2-admin-token") || "";
}

// Every control-plane call carries the admin token, if one was given.
async function api(path) {
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    askForToken();
    throw new Error("the control plane needs the admin token");
  }
  return response.json();
}

function askForToken() {
  document.getElementById("token-prompt").hidden = false;
  document.getElementById("activity").hidden = true;
  statusEl.textContent = "admin token needed";
  document.getElementById("token-input").focus();
}

document.getElementById("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("k2-admin-token", document.getElementById("token-input").value);
  document.getElementById("token-prompt").hidden = true;
  document.getElementById("activity").hidden = false;
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

function add(event) {
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
    } else {
      cell.textContent = text;
    }
    if (i === 3) cell.className = "what" + (failed(event.kind, event.data) ? " failed" : "");
    row.appendChild(cell);
  });
  feed.prepend(row);
  while (feed.rows.length > MAX_ROWS) feed.deleteRow(-1);
  clockEl.textContent = event.at;
}

function start() {
  if (source) source.close();
  const params = new URLSearchParams();
  if (kindFilter.value) params.set("kind", kindFilter.value);
  if (token()) params.set("token", token());
  source = new EventSource("/_sandbox/stream?" + params);
  source.onopen = () => { statusEl.textContent = "live"; };
  source.onerror = () => {
    statusEl.textContent = "reconnecting…";
    // A refused stream is a missing or wrong token: ask once.
    api("/_sandbox/clock").catch(() => source.close());
  };
  ["request", "resource", "callback", "webhook", "sms", "prompt", "clock", "scenario"].forEach((kind) =>
    source.addEventListener(kind, (m) => add(JSON.parse(m.data))));
  source.addEventListener("missed", (m) => {
    const notice = document.getElementById("missed");
    notice.hidden = false;
    notice.textContent = `Missed ${JSON.parse(m.data).missed} events: the page fell behind.`;
  });
  api("/_sandbox/clock").then((c) => { clockEl.textContent = c.now; }).catch(() => {});
}

kindFilter.addEventListener("change", start);
start();
