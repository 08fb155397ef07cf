// Uyum operator console: plain ES2020, no framework, no build step.
// Security rule for this file: data from the API is only ever put into the
// page with textContent / attributes, never parsed as HTML.
"use strict";

const API = "/api/v1";
const MAX_REPLY = 4000;
const LANGS = { ar: "Arabic", fa: "Persian", ps: "Pashto", tr: "Turkish", en: "English" };
const REASONS = { asked: "asked for a person", kb_fallback: "bot could not answer",
  negative_feedback: "negative feedback", protection: "protection", urgent_entry: "urgent topic" };

const $ = (id) => document.getElementById(id);

// Everything the page knows; reset on sign-out.
const state = {
  me: null,          // Operator
  csrf: "",
  outcomes: [],
  events: null,      // EventSource
  eventsRetry: null, // timer id
  queueSeq: 0,       // drops out-of-order queue responses
  convSeq: 0,
  openId: null,      // open conversation id
  conv: null,        // last GET /conversations/{id} response
  operators: [],
  sending: false,    // a reply POST is in flight
};

// ---- Small helpers ----

/** Create an element: el("span", {className: "x", dir: "auto"}, "text", child...) */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className" || key === "title" || key === "type" || key === "disabled") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

/** "45 s", "4 min", "2 h 05 min", "3 d" */
function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

/** Timestamp in the operator's local time (the date only when not today). */
function formatTime(iso) {
  const d = new Date(iso || NaN);
  if (Number.isNaN(d.getTime())) return "";
  return (new Date().toDateString() === d.toDateString() ? timeFormat : dateTimeFormat).format(d);
}

const langLabel = (code) => (code ? code.toUpperCase() : "??");

// ---- API access ----

class ApiError extends Error {
  constructor(status, message, hint) {
    super(message);
    this.status = status;
    this.hint = hint || "";
    this.handled = false; // true when already dealt with (401 -> login view)
  }
}

/**
 * Call the API. GET without body; every other method sends JSON with the
 * CSRF header. A 401 sends the operator back to the login view unless
 * opts.allow401 is set (login, /auth/me on page load).
 */
async function api(method, path, body, opts = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRF-Token"] = state.csrf;
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, "Cannot reach the server, check the connection");
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, (data && data.error) || `Request failed (HTTP ${res.status})`, data && data.hint);
    if (res.status === 401 && !opts.allow401) {
      err.handled = true;
      showLogin("Your session expired, please sign in again");
    }
    throw err;
  }
  return data || {};
}

/** Show an API error in the banner (unless it was a handled 401). */
function reportError(err) {
  if (err?.handled) return;
  console.error(err);
  $("error-text").textContent = err?.message || String(err);
  $("error-hint").textContent = err?.hint || "";
  $("error-banner").hidden = false;
}

function hideError() {
  $("error-banner").hidden = true;
}

// ---- Login / session ----

function showLogin(message = "") {
  stopEvents();
  Object.assign(state, { me: null, csrf: "", openId: null, conv: null });
  state.queueSeq++;
  state.convSeq++;
  hideError();
  // Drop the previous operator's data from the page.
  for (const id of ["queue", "messages", "notes", "canned-results"]) $(id).replaceChildren();
  $("conversation").hidden = true;
  $("conversation-placeholder").hidden = false;
  $("layout").classList.remove("show-conv");
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message;
  $("password").value = "";
  $("username").focus();
}

/** Store what /auth/login or /auth/me returned and open the app. */
function enterApp(data) {
  state.me = data.operator;
  state.csrf = data.csrf_token || "";
  state.outcomes = data.outcomes || [];
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("login-error").textContent = "";
  $("me").textContent = `${state.me.display_name || state.me.username} (${state.me.role})`;

  $("close-outcome").replaceChildren(...state.outcomes.map((o) => el("option", { value: o }, o)));

  startEvents();
  refreshQueue();
  loadOperators();
  route();
}

async function onLogin(event) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) {
    $("login-error").textContent = "Enter your username and password";
    return;
  }
  $("login-submit").disabled = true;
  $("login-error").textContent = "";
  try {
    enterApp(await api("POST", "/auth/login", { username, password }, { allow401: true }));
  } catch (err) {
    const messages = { 401: "Wrong username or password", 429: "Too many attempts, wait a few minutes" };
    $("login-error").textContent = messages[err.status] || err.message;
  } finally {
    $("login-submit").disabled = false;
  }
}

async function onSignOut() {
  try {
    await api("POST", "/auth/logout", {}, { allow401: true });
  } catch (err) {
    if (err.status !== 401) console.warn("logout failed", err);
  }
  showLogin("");
}

// ---- Live updates (Server-Sent Events) ----

function setLive(live) {
  const s = $("live-status");
  s.textContent = live ? "● live" : "reconnecting…";
  s.className = live ? "live" : "offline";
}

function startEvents() {
  stopEvents();
  const es = new EventSource(API + "/events");
  state.events = es;
  es.addEventListener("open", () => {
    setLive(true);
    // Changes may have happened while disconnected.
    refreshQueueSoon();
    if (state.openId !== null) refreshConversationSoon();
  });
  es.addEventListener("error", () => {
    setLive(false);
    // EventSource retries by itself unless the server refused the stream
    // (e.g. 401): then check the session and start over.
    if (es.readyState === EventSource.CLOSED && state.events === es) {
      state.eventsRetry = setTimeout(() => {
        api("GET", "/auth/me").catch((err) => err) // a 401 shows the login view
          .then((res) => { if (state.me && !res?.handled) startEvents(); });
      }, 5000);
    }
  });
  es.addEventListener("change", (ev) => {
    let change = {};
    try { change = JSON.parse(ev.data) || {}; } catch { /* still refresh the queue */ }
    refreshQueueSoon();
    const handover = state.conv?.handover;
    if (state.openId !== null && (change.conversation_id === state.openId ||
        (handover && change.handover_id === handover.id))) refreshConversationSoon();
  });
}

function stopEvents() {
  clearTimeout(state.eventsRetry);
  if (state.events) state.events.close();
  state.events = null;
  setLive(false);
}

// ---- Queue ----

const refreshQueueSoon = debounce(refreshQueue, 150);

async function refreshQueue() {
  if (!state.me) return;
  const params = new URLSearchParams();
  for (const name of ["state", "language", "channel", "priority"]) {
    const value = $("filter-" + name).value;
    if (value) params.set(name, value);
  }
  const seq = ++state.queueSeq;
  try {
    const data = await api("GET", "/handovers?" + params);
    if (seq === state.queueSeq) renderQueue(data.handovers || []);
  } catch (err) {
    reportError(err);
  }
}

function renderQueue(handovers) {
  addChannelOptions(handovers);
  // Rows are rebuilt on every refresh: keep keyboard focus on the same row.
  const active = document.activeElement;
  const focusedRow = active?.closest?.("#queue .handover");
  const focusClaim = !!focusedRow && active.classList.contains("claim");
  $("queue").replaceChildren(...handovers.map(queueRow));
  if (focusedRow) {
    const row = $("queue").querySelector(`[data-id="${CSS.escape(focusedRow.dataset.id)}"]`);
    const target = row && ((focusClaim && row.querySelector(".claim")) || row.querySelector(".row-main"));
    if (target) target.focus();
  }
  $("queue-empty").hidden = handovers.length > 0;
  $("queue-count").textContent = `(${handovers.length})`;
  tickWaits();
}

/** Channels like "sandbox-telegram" are added to the filter as they appear. */
function addChannelOptions(handovers) {
  const select = $("filter-channel");
  const known = new Set([...select.options].map((o) => o.value));
  for (const h of handovers) {
    if (h.channel && !known.has(h.channel)) {
      select.append(el("option", { value: h.channel }, h.channel));
      known.add(h.channel);
    }
  }
}

function holderName(h) {
  if (!h.operator) return "unassigned";
  return h.mine ? `${h.operator.display_name} (you)` : h.operator.display_name;
}

function queueRow(h) {
  const urgent = h.priority >= 1;
  const ended = h.state === "closed" ? h.closed_at : "";
  const main = el("button", { type: "button", className: "row-main" },
    el("span", { className: "row-top" },
      el("span", { className: urgent ? "badge urgent" : "badge" }, urgent ? "URGENT" : "normal"),
      el("span", { className: "tag", title: LANGS[h.language] || "unknown language" }, langLabel(h.language)),
      el("span", { className: "tag" }, h.channel || ""),
      el("span", { className: `tag state-${h.state}` }, h.state),
      el("span", { className: "wait", "data-created": h.created_at, "data-ended": ended,
        title: "waiting time" }, formatWait(h.waiting_seconds || 0))),
    el("span", { className: "row-info" }, `${REASONS[h.reason] || h.reason} · ${holderName(h)}`),
    el("span", { className: "preview", dir: "auto" }, h.preview || "—"));

  const row = el("li", {
    className: "handover" + (urgent ? " is-urgent" : "") + (h.conversation_id === state.openId ? " selected" : ""),
    "data-testid": "handover-row", "data-id": h.id, "data-conversation": h.conversation_id,
  }, main);
  if (h.conversation_id === state.openId) main.setAttribute("aria-current", "true");
  if (h.state === "queued") row.append(el("button", { type: "button", className: "claim", "data-testid": "claim" }, "Claim"));
  row.addEventListener("click", (ev) => {
    if (ev.target.closest("[data-testid=claim]")) claim(h);
    else openRoute(h.conversation_id);
  });
  return row;
}

/** Update every waiting time from created_at (runs each second). */
function tickWaits() {
  const now = Date.now();
  for (const span of document.querySelectorAll(".wait[data-created]")) {
    const start = Date.parse(span.dataset.created);
    if (Number.isNaN(start)) continue;
    const end = span.dataset.ended ? Date.parse(span.dataset.ended) : now;
    span.textContent = formatWait(((Number.isNaN(end) ? now : end) - start) / 1000);
  }
}

async function claim(h) {
  try {
    await api("POST", `/handovers/${h.id}/claim`, {});
    hideError();
    openRoute(h.conversation_id); // opens (or re-fetches) the conversation
  } catch (err) {
    reportError(err); // 409: "someone else claimed it"
  }
  refreshQueue();
}

// ---- Routing: #c<id> opens a conversation (phone back button works) ----

function openRoute(conversationId) {
  const hash = "#c" + conversationId;
  if (location.hash === hash) openConversation(conversationId);
  else location.hash = hash; // -> hashchange -> route()
}

function route() {
  if (!state.me) return;
  const match = /^#c(\d+)$/.exec(location.hash);
  if (match) openConversation(Number(match[1]));
  else closeConversation();
}

// ---- Conversation ----

const refreshConversationSoon = debounce(refreshConversation, 150);

function openConversation(id) {
  const changed = state.openId !== id;
  state.openId = id;
  $("layout").classList.add("show-conv");
  $("conversation-placeholder").hidden = true;
  $("conversation").hidden = false;
  for (const row of document.querySelectorAll("#queue .handover")) {
    row.classList.toggle("selected", Number(row.dataset.conversation) === id);
  }
  if (changed) {
    state.conv = null;
    $("messages").replaceChildren();
    $("notes").replaceChildren();
    $("reply-text").value = "";
    $("note-text").value = "";
    $("canned-results").replaceChildren();
    $("canned-search").value = "";
    updateCounter();
  }
  refreshConversation();
}

function closeConversation() {
  state.openId = null;
  state.conv = null;
  state.convSeq++;
  $("layout").classList.remove("show-conv");
  $("conversation").hidden = true;
  $("conversation-placeholder").hidden = false;
  for (const row of document.querySelectorAll("#queue .handover.selected")) row.classList.remove("selected");
}

async function refreshConversation() {
  const id = state.openId;
  if (id === null || !state.me) return;
  const seq = ++state.convSeq;
  try {
    const data = await api("GET", `/conversations/${id}`);
    if (seq === state.convSeq && state.openId === id) renderConversation(data);
  } catch (err) {
    reportError(err);
  }
}

function renderConversation(data) {
  state.conv = data;
  const c = data.conversation || {};
  const h = data.handover;
  $("conv-title").textContent = `${c.user || "User"} · ${langLabel(c.language)}`;
  let status = "no handover";
  if (h) {
    status = h.state === "closed" ? `closed${h.outcome ? ": " + h.outcome : ""}` :
      h.state === "queued" ? "queued, waiting for an operator" : `assigned to ${holderName(h)}`;
    if (h.priority >= 1) status = "URGENT · " + status;
    status += ` · ${REASONS[h.reason] || h.reason}`;
  }
  $("conv-meta").textContent = `${c.channel || ""} · ${LANGS[c.language] || "unknown language"} · ${status}`;

  // Messages: keep the view at the bottom if the operator was already there.
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40 || list.childElementCount === 0;
  list.replaceChildren(...(data.messages || []).map(messageBubble));
  if (atBottom) list.scrollTop = list.scrollHeight;

  $("notes").replaceChildren(...(data.notes || []).map(noteItem));
  updateControls();
}

function messageBubble(m) {
  const from = ["user", "bot", "operator"].includes(m.from) ? m.from : "bot";
  // dir="auto" on the bubble: its direction follows the message text. The
  // meta lines carry dir="ltr" so they do not take part in that guess.
  const bubble = el("li", { className: `msg from-${from}`, dir: "auto", "data-testid": "message", "data-from": from });

  const who = from === "operator" ? (m.operator || "operator") : from === "bot" ? "bot" : "user";
  const meta = el("span", { className: "meta", dir: "ltr" }, el("b", {}, who), " · ", formatTime(m.at));
  if (m.status) meta.append(el("span", { className: `status status-${m.status}` }, ` · ${m.status}`));
  bubble.append(meta);

  if (m.text) bubble.append(el("span", { className: "text" }, m.text));
  // Media is shown as its reference only: never a link or an image.
  for (const media of m.media || []) bubble.append(el("span", { className: "media", dir: "ltr" }, `📎 ${media.kind} (${media.ref})`));
  if (Array.isArray(m.location) && m.location.length === 2) {
    bubble.append(el("span", { className: "media", dir: "ltr" }, `📍 ${m.location[0]}, ${m.location[1]}`));
  }
  if (m.buttons?.length) {
    bubble.append(el("span", { className: "buttons" }, ...m.buttons.map((b) => el("span", { className: "chip", dir: "auto" }, b))));
  }
  if (from === "bot" && m.entry) bubble.append(el("span", { className: "kb", dir: "ltr" }, `knowledge base: ${m.entry}`));
  return bubble;
}

function noteItem(n) {
  return el("li", { className: "note", "data-testid": "note" },
    el("span", { className: "meta", dir: "ltr" }, el("b", {}, n.operator || ""), ` · ${formatTime(n.at)} · internal`),
    el("span", { className: "text", dir: "auto" }, n.text || ""));
}

/** Enable/disable reply and actions from the handover state. */
function updateControls() {
  const h = state.conv?.handover;
  const open = !!h && h.state !== "closed";
  const mine = !!h && h.mine === true && h.state === "assigned";

  $("reply-text").disabled = !mine;
  let hint = "";
  if (!h) hint = "No handover: the bot is answering.";
  else if (h.state === "closed") hint = "This handover is closed.";
  else if (!mine) hint = h.state === "queued" ? "Claim it to reply." : `Assigned to ${holderName(h)}.`;
  else hint = "Ctrl/Cmd+Enter sends.";
  $("reply-hint").textContent = hint;
  updateCounter();

  $("note-text").disabled = !h;
  $("note-add").disabled = !h;
  for (const id of ["transfer-select", "transfer-go", "close-outcome", "close-go"]) $(id).disabled = !open;
  if (!state.outcomes.length) $("close-go").disabled = true;
}

function updateCounter() {
  const text = $("reply-text");
  const n = text.value.length;
  $("reply-counter").textContent = `${n} / ${MAX_REPLY}`;
  $("reply-counter").classList.toggle("over", n > MAX_REPLY);
  $("reply-send").disabled = text.disabled || !text.value.trim() || n > MAX_REPLY || state.sending;
}

// ---- Reply, notes, transfer, close ----

async function sendReply(event) {
  if (event) event.preventDefault();
  const box = $("reply-text");
  const text = box.value.trim();
  const id = state.openId;
  if (!text || box.disabled || state.sending || id === null || text.length > MAX_REPLY) return;
  state.sending = true;
  updateCounter();
  try {
    await api("POST", `/conversations/${id}/messages`, { text });
    if (state.openId === id) box.value = ""; // keep the text when it failed
    hideError();
  } catch (err) {
    reportError(err);
  } finally {
    state.sending = false;
    updateCounter();
  }
  refreshConversation();
}

async function addNote() {
  const h = state.conv?.handover;
  const box = $("note-text");
  const text = box.value.trim();
  if (!h || !text) return;
  $("note-add").disabled = true;
  try {
    await api("POST", `/handovers/${h.id}/notes`, { text });
    box.value = "";
    hideError();
  } catch (err) {
    reportError(err);
  } finally {
    $("note-add").disabled = false;
  }
  refreshConversation();
}

async function loadOperators() {
  try {
    const data = await api("GET", "/operators");
    state.operators = (data.operators || []).filter((o) => o.active !== false);
  } catch (err) {
    state.operators = [];
    if (err.status !== 403) reportError(err);
  }
  // value "null" = back to the queue (operator_id: null)
  const options = [el("option", { value: "null" }, "back to the queue")];
  for (const o of state.operators) {
    const you = state.me && o.id === state.me.id ? ", you" : "";
    const langs = (o.languages || []).join(", ");
    options.push(el("option", { value: o.id }, `${o.display_name || o.username} (${o.team || "team ?"}${langs ? ": " + langs : ""}${you})`));
  }
  $("transfer-select").replaceChildren(...options);
}

/** POST an action on the open handover, then refresh everything. */
async function handoverAction(action, body) {
  const h = state.conv?.handover;
  if (!h) return;
  try {
    await api("POST", `/handovers/${h.id}/${action}`, body);
    hideError();
  } catch (err) {
    reportError(err);
  }
  refreshConversation();
  refreshQueue();
}

function transfer() {
  const value = $("transfer-select").value;
  if (!value) return;
  handoverAction("transfer", { operator_id: value === "null" ? null : Number(value) });
}

function closeHandover() {
  const outcome = $("close-outcome").value;
  if (!outcome) return;
  if (!window.confirm(`Close this conversation with outcome "${outcome}"? The bot takes over again.`)) return;
  handoverAction("close", { outcome });
}

// ---- Canned replies ----

let cannedSeq = 0;

async function searchCanned() {
  const q = $("canned-search").value.trim();
  if (!q || state.openId === null || !state.me) return $("canned-results").replaceChildren();
  const language = state.conv?.conversation?.language || state.conv?.handover?.language;
  const params = new URLSearchParams({ q });
  if (language) params.set("language", language);
  const seq = ++cannedSeq;
  try {
    const data = await api("GET", "/canned?" + params);
    if (seq !== cannedSeq) return;
    const replies = data.replies || [];
    $("canned-results").replaceChildren(...replies.map(cannedItem));
    if (!replies.length) $("canned-results").append(el("li", { className: "muted" }, "No canned replies."));
  } catch (err) {
    reportError(err);
  }
}

function cannedItem(r) {
  const button = el("button", { type: "button", className: "canned", title: "Insert into the reply" },
    el("b", { dir: "auto" }, r.title || r.entry || ""),
    el("span", { dir: "auto" }, r.text || ""));
  button.addEventListener("click", () => insertReply(r.text || ""));
  return el("li", { "data-testid": "canned" }, button);
}

/** Insert text at the cursor of the reply box (replacing any selection). */
function insertReply(text) {
  const box = $("reply-text");
  if (box.disabled) {
    reportError(new ApiError(0, "Claim the conversation before replying"));
    return;
  }
  box.setRangeText(text, box.selectionStart ?? box.value.length, box.selectionEnd ?? box.value.length, "end");
  updateCounter();
  box.focus();
}

// ---- Wiring ----

function init() {
  $("login-form").addEventListener("submit", onLogin);
  $("sign-out").addEventListener("click", onSignOut);
  $("error-dismiss").addEventListener("click", hideError);
  $("filters").addEventListener("change", refreshQueue);
  $("filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("back").addEventListener("click", () => { location.hash = ""; });
  window.addEventListener("hashchange", route);

  $("reply-form").addEventListener("submit", sendReply);
  $("reply-text").addEventListener("input", updateCounter);
  $("reply-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) sendReply(ev);
  });
  $("note-add").addEventListener("click", addNote);
  $("transfer-go").addEventListener("click", transfer);
  $("close-go").addEventListener("click", closeHandover);
  $("canned-search").addEventListener("input", debounce(searchCanned, 250));

  setInterval(tickWaits, 1000);
  // Safety net in case a proxy buffers the event stream.
  setInterval(() => state.me && refreshQueue(), 30000);

  // Already signed in? (session cookie)
  api("GET", "/auth/me", undefined, { allow401: true })
    .then(enterApp)
    .catch((err) => showLogin(err.status === 401 ? "" : err.message));
}

document.addEventListener("DOMContentLoaded", init);
