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
  resetCases();
  resetDashboard();
  resetGaps();
  resetBroadcasts();
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

// ---- Routing: #c<id> opens a conversation, #broadcasts the announcements, #complaints the cases,
// #dashboard the figures, #gaps the content gaps (phone back button works) ----

function openRoute(conversationId) {
  const hash = "#c" + conversationId;
  if (location.hash === hash) openConversation(conversationId);
  else location.hash = hash; // -> hashchange -> route()
}

function route() {
  if (!state.me) return;
  const hash = location.hash;
  const broadcast = /^#b(\d+)$/.exec(hash);
  if (broadcast || hash === "#broadcasts" || hash === "#broadcasts/new") {
    closeConversation();
    enterBroadcasts();
    if (broadcast) openBroadcast(Number(broadcast[1]));
    else if (hash === "#broadcasts/new") showBroadcastForm();
    else showBroadcastList();
    return;
  }
  if (hash === "#complaints" || hash.startsWith("#complaints/")) {
    closeConversation();
    enterCases();
    const reference = hash.slice("#complaints/".length);
    if (reference) openCase(decodeURIComponent(reference));
    else closeCase();
    return;
  }
  if (hash === "#dashboard") {
    closeConversation();
    enterDashboard();
    return;
  }
  if (hash === "#gaps") {
    closeConversation();
    enterGaps();
    return;
  }
  showSection("handovers");
  const match = /^#c(\d+)$/.exec(hash);
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

// ---- Announcements (broadcasts) ----
// #broadcasts lists them, #broadcasts/new is the form, #b<id> one announcement.

const BC_LANG_ORDER = ["tr", "ar", "fa", "en", "ps"];
const RTL_LANGS = new Set(["ar", "fa", "ps"]); // written in Arabic script
const BC_COUNTS = ["sent", "delivered", "read", "failed", "skipped"];
const BC_STATES = { draft: "draft: waiting for a supervisor's approval", approved: "approved, waiting for its send time",
  sending: "being sent", sent: "sent", cancelled: "cancelled" };
const CHANNEL_NAMES = { telegram: "Telegram", whatsapp: "WhatsApp" };
// languages users may write in beyond the console's five (they get a fallback text)
const MORE_LANGS = { ckb: "Kurdish (Sorani)", kmr: "Kurdish (Kurmanji)", fr: "French", ru: "Russian", uk: "Ukrainian" };
const BC_POLL_MS = 1500;
const SVG_NS = "http://www.w3.org/2000/svg";

const bc = {
  options: null,        // GET /broadcasts/options
  optionsLoading: null, // its promise while in flight
  list: [],
  mode: null,           // "list" | "new" | "detail"
  openId: null,
  detail: null,         // last GET /broadcasts/{id}
  listSeq: 0,
  detailSeq: 0,
  polling: false,
  submitting: false,
};

/** An API time; one without a zone is UTC (SQLite gives stored times back without one). */
function parseTime(iso) {
  if (!iso) return NaN;
  const trimmed = String(iso).replace(/(\.\d{3})\d+/, "$1");
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(trimmed) ? trimmed : trimmed + "Z");
}

function formatBcTime(iso) {
  const t = parseTime(iso);
  return Number.isNaN(t) ? "" : dateTimeFormat.format(new Date(t));
}

const langName = (code) => `${LANGS[code] || MORE_LANGS[code] || code} (${code})`;
/** The console's languages first (tr, ar, fa, en, ps), then the others by code. */
function byLanguageOrder(a, b) {
  const rank = (code) => (BC_LANG_ORDER.includes(code) ? BC_LANG_ORDER.indexOf(code) : BC_LANG_ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}
const channelName = (code) => CHANNEL_NAMES[code] || code;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function topicName(id) {
  const topic = (bc.options?.topics || []).find((t) => t.id === id);
  if (!topic) return id;
  const lang = document.documentElement.lang || "en";
  return topic.names?.[lang] || topic.names?.en || topic.id;
}

/** The options (topics, filters, what this operator may do), loaded once per sign-in. */
function loadBroadcastOptions() {
  if (bc.options) return Promise.resolve(bc.options);
  if (!bc.optionsLoading) {
    const me = state.me;
    const loading = api("GET", "/broadcasts/options")
      .then((data) => {
        if (state.me !== me) return data; // signed out meanwhile: not this operator's
        bc.options = data;
        buildBroadcastForm(data);
        $("bc-new").hidden = !data.can_write;
        if (bc.list.length) renderBroadcastList(bc.list); // topic names
        return data;
      })
      .finally(() => { if (bc.optionsLoading === loading) bc.optionsLoading = null; });
    bc.optionsLoading = loading;
  }
  return bc.optionsLoading;
}

function resetBroadcasts() {
  Object.assign(bc, { options: null, optionsLoading: null, list: [], mode: null, openId: null, detail: null });
  bc.listSeq++;
  bc.detailSeq++;
  $("bc-list").replaceChildren();
  $("bc-detail").replaceChildren();
  $("bc-form").reset();
  for (const id of ["bc-topics", "bc-texts", "bc-languages", "bc-channels", "bc-provinces"]) $(id).replaceChildren();
  $("bc-new").hidden = true;
  setBroadcastPane("list");
  showSection("handovers");
}

/** Each part of the app: its view and its link in the top bar. */
const SECTIONS = {
  handovers: ["layout", "nav-handovers"],     // queue + conversation
  broadcasts: ["broadcasts-view", "nav-broadcasts"],
  complaints: ["cases-view", "nav-complaints"],
  dashboard: ["dashboard-view", "nav-dashboard"],
  gaps: ["gaps-view", "nav-gaps"],
};

/** Which part of the app is shown: "handovers", "broadcasts", "complaints", "dashboard" or "gaps". */
function showSection(name) {
  for (const [section, [view, nav]] of Object.entries(SECTIONS)) {
    const active = section === name;
    $(view).hidden = !active;
    if (active) $(nav).setAttribute("aria-current", "page");
    else $(nav).removeAttribute("aria-current");
  }
}

function enterBroadcasts() {
  const wasHidden = $("broadcasts-view").hidden;
  showSection("broadcasts");
  if (wasHidden) {
    loadBroadcastOptions().catch(reportError);
    refreshBroadcasts();
  }
}

/** Show the placeholder, the form or the detail in the right-hand pane. */
function setBroadcastPane(mode) {
  bc.mode = mode;
  $("bc-placeholder").hidden = mode !== "list";
  $("bc-form").hidden = mode !== "new";
  $("bc-detail").hidden = mode !== "detail";
  $("broadcasts-view").classList.toggle("show-main", mode !== "list");
  if (mode !== "detail") {
    bc.openId = null;
    bc.detail = null;
    bc.detailSeq++;
  }
  markSelectedBroadcast();
}

function showBroadcastList() {
  setBroadcastPane("list");
}

async function showBroadcastForm() {
  setBroadcastPane("list"); // until the options say this operator may write
  try {
    const options = await loadBroadcastOptions();
    if (location.hash !== "#broadcasts/new") return;
    if (!options.can_write) {
      reportError(new ApiError(403, "Only editors, supervisors and admins write announcements"));
      location.hash = "#broadcasts";
      return;
    }
    setBroadcastPane("new");
    $("bc-title").focus();
  } catch (err) {
    reportError(err);
  }
}

// -- The form --

function checkbox(name, value, text, props = {}) {
  return el("label", { className: "check" },
    el("input", { type: "checkbox", name, value, ...props }), " ", text);
}

/** Topics, one text box per language and the filters, from the options. */
function buildBroadcastForm(options) {
  $("bc-topics").replaceChildren(...(options.topics || []).map((t) =>
    checkbox("topic", t.id, topicName(t.id), { "data-testid": "broadcast-topic", "data-topic": t.id })));

  const required = options.required_languages || [];
  // required languages first (tr, ar, fa, en), then the optional ones (ps)
  const codes = [...new Set([...BC_LANG_ORDER, ...required, ...Object.keys(LANGS)])]
    .filter((code) => required.includes(code) || code in LANGS)
    .sort((a, b) => Number(required.includes(b)) - Number(required.includes(a)));
  $("bc-texts").replaceChildren(...codes.map((code) => {
    const id = `bc-text-${code}`;
    const isRequired = required.includes(code);
    return el("div", { className: "bc-text" },
      el("label", { for: id }, langName(code), " ",
        el("span", { className: isRequired ? "req" : "muted" }, isRequired ? "required" : "optional")),
      el("textarea", { id, name: `text-${code}`, rows: 3, maxlength: 4000, lang: code,
        dir: RTL_LANGS.has(code) ? "rtl" : "auto", "data-lang": code, "data-testid": `broadcast-text-${code}`,
        "aria-required": isRequired ? "true" : null }));
  }));
  $("bc-texts-hint").textContent = required.length ?
    `Required: ${required.map((c) => LANGS[c] || c).join(", ")} (only those the language filter keeps). ` +
    "The rest is optional." : "";

  $("bc-languages").replaceChildren(...BC_LANG_ORDER.filter((c) => c in LANGS).map((code) =>
    checkbox("language", code, langName(code), { "data-testid": "broadcast-filter-language" })));
  $("bc-channels").replaceChildren(...(options.channels || []).map((code) =>
    checkbox("channel", code, channelName(code), { "data-testid": "broadcast-filter-channel" })));
  $("bc-provinces").replaceChildren(...(options.provinces || []).map((p) => el("option", { value: p }, p)));
  updateProvincesHint();
}

function updateProvincesHint() {
  const chosen = [...$("bc-provinces").selectedOptions].map((o) => o.value);
  $("bc-provinces-chosen").textContent = chosen.length ? `Chosen: ${chosen.join(", ")}` : "All provinces.";
}

function checkedValues(container) {
  return [...$(container).querySelectorAll("input:checked")].map((input) => input.value);
}

function broadcastFormBody() {
  const translations = {};
  for (const box of $("bc-texts").querySelectorAll("textarea")) {
    const text = box.value.trim();
    if (text) translations[box.dataset.lang] = text;
  }
  let sendAt = $("bc-send-at").value || null;
  if (sendAt && /T\d\d:\d\d$/.test(sendAt)) sendAt += ":00";
  return {
    title: $("bc-title").value.trim(),
    topics: checkedValues("bc-topics"),
    translations,
    missing_translation: $("bc-form").querySelector("input[name=missing]:checked")?.value || "fallback",
    languages: checkedValues("bc-languages"),
    channels: checkedValues("bc-channels"),
    provinces: [...$("bc-provinces").selectedOptions].map((o) => o.value),
    template_sid: $("bc-template").value.trim() || null,
    send_at: sendAt, // office time (no zone); null: as soon as it is approved
  };
}

function formError(message, focus) {
  $("bc-form-error").textContent = message;
  if (focus) focus.focus();
}

async function submitBroadcast(event) {
  event.preventDefault();
  if (bc.submitting) return;
  const body = broadcastFormBody();
  formError("");
  if (!body.title) return formError("Give the announcement a title.", $("bc-title"));
  if (!body.topics.length) return formError("Choose at least one topic.", $("bc-topics").querySelector("input"));
  if (body.template_sid && !/^HX[0-9a-fA-F]{32}$/.test(body.template_sid)) {
    return formError("A WhatsApp template SID is HX followed by 32 hexadecimal digits.", $("bc-template"));
  }
  bc.submitting = true;
  $("bc-submit").disabled = true;
  try {
    const made = await api("POST", "/broadcasts", body);
    hideError();
    resetBroadcastForm();
    setBroadcastPane("detail");
    bc.openId = made.id;
    renderBroadcastDetail(made);
    location.hash = "#b" + made.id; // -> route() -> openBroadcast (already open: refreshed)
    refreshBroadcasts();
  } catch (err) {
    if (!err.handled) formError(`Not saved: ${err.message}${err.hint ? " " + err.hint : ""}`);
  } finally {
    bc.submitting = false;
    $("bc-submit").disabled = false;
  }
}

function resetBroadcastForm() {
  $("bc-form").reset();
  formError("");
  updateProvincesHint();
}

// -- The list --

async function refreshBroadcasts() {
  if (!state.me) return;
  const seq = ++bc.listSeq;
  try {
    const data = await api("GET", "/broadcasts?limit=50");
    if (seq === bc.listSeq && state.me) renderBroadcastList(data.broadcasts || []);
  } catch (err) {
    if (seq === bc.listSeq) reportError(err);
  }
}

function renderBroadcastList(list) {
  bc.list = list;
  const active = document.activeElement;
  const focusedId = active?.closest?.("#bc-list [data-id]")?.dataset.id;
  $("bc-list").replaceChildren(...list.map(broadcastRow));
  if (focusedId) $("bc-list").querySelector(`[data-id="${CSS.escape(focusedId)}"] a`)?.focus();
  $("bc-empty").hidden = list.length > 0;
  markSelectedBroadcast();
}

/** Recipients handed to the platforms (or skipped) out of all of them. */
function progressOf(b) {
  const total = b.recipients || 0;
  const finished = b.state === "sent" || b.state === "cancelled";
  if (!total) return { total, handled: 0, max: 1, value: finished ? 1 : 0 };
  const handled = Math.max(0, total - (b.queued || 0));
  return { total, handled, max: total, value: handled };
}

function timeLine(b) {
  if (b.state === "sent" && b.finished_at) return `sent ${formatBcTime(b.finished_at)}`;
  if (b.state === "sending") return `sending since ${formatBcTime(b.started_at || b.send_at)}`;
  if (b.state === "cancelled") return "cancelled";
  const due = parseTime(b.send_at) <= Date.now();
  if (b.state === "draft") return due ? "goes as soon as approved" : `to go ${formatBcTime(b.send_at)}`;
  return due ? "going now" : `goes ${formatBcTime(b.send_at)}`;
}

function broadcastRow(b) {
  const link = el("a", { className: "row-main", href: `#b${b.id}` },
    el("span", { className: "row-top" },
      el("span", { className: `tag bc-state state-${b.state}`, title: BC_STATES[b.state] || b.state }, b.state),
      el("span", { className: "bc-when" }, timeLine(b))),
    el("span", { className: "bc-row-title", dir: "auto" }, b.title || "(no title)"),
    el("span", { className: "row-info" },
      `${(b.topics || []).map(topicName).join(", ")} · by ${b.created_by || "?"}`));
  if (b.recipients || b.state === "sending") {
    const p = progressOf(b);
    link.append(el("span", { className: "bc-row-progress" },
      el("progress", { max: p.max, value: p.value, "aria-label": `Progress of ${b.title}` }),
      el("span", {}, `${p.handled} / ${p.total}`)));
  }
  return el("li", { className: "bc-row", "data-testid": "broadcast-row", "data-id": b.id, "data-state": b.state }, link);
}

function markSelectedBroadcast() {
  for (const row of document.querySelectorAll("#bc-list .bc-row")) {
    const selected = bc.mode === "detail" && Number(row.dataset.id) === bc.openId;
    row.classList.toggle("selected", selected);
    const link = row.querySelector("a");
    if (selected) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

// -- One announcement --

function openBroadcast(id) {
  const changed = bc.openId !== id || bc.mode !== "detail";
  setBroadcastPane("detail");
  bc.openId = id;
  markSelectedBroadcast();
  if (changed && bc.detail?.id !== id) {
    bc.detail = null;
    $("bc-detail").replaceChildren(el("p", { className: "muted" }, "Loading…"));
  }
  refreshBroadcastDetail();
}

async function refreshBroadcastDetail() {
  const id = bc.openId;
  if (id === null || !state.me) return;
  const seq = ++bc.detailSeq;
  try {
    const [data] = await Promise.all([api("GET", `/broadcasts/${id}`), loadBroadcastOptions()]);
    if (seq === bc.detailSeq && bc.openId === id && bc.mode === "detail") renderBroadcastDetail(data);
  } catch (err) {
    if (seq === bc.detailSeq) reportError(err);
  }
}

function fact(term, ...value) {
  return el("div", {}, el("dt", {}, term), el("dd", {}, ...value));
}

function renderBroadcastDetail(d) {
  bc.detail = d;
  const options = bc.options || {};
  const status = { ...d.status, state: d.state };
  // The detail is rebuilt on every refresh: keep keyboard focus on the same control.
  const focused = document.activeElement?.closest?.("#bc-detail") ? document.activeElement.dataset.testid : null;

  const back = el("button", { type: "button", className: "back bc-back" }, "← Announcements");
  back.addEventListener("click", () => { location.hash = "#broadcasts"; });
  const head = el("div", { className: "bc-head" }, back,
    el("div", {},
      el("h2", { dir: "auto", "data-testid": "broadcast-detail-title" }, d.title || "(no title)"),
      el("p", { className: "muted" }, `Announcement #${d.id} · `,
        el("span", { className: `tag bc-state state-${d.state}`, "data-testid": "broadcast-state",
          title: BC_STATES[d.state] || d.state }, d.state))));

  const audience = [];
  if (d.languages?.length) audience.push(`languages: ${d.languages.map(langName).join(", ")}`);
  if (d.channels?.length) audience.push(`channels: ${d.channels.map(channelName).join(", ")}`);
  if (d.provinces?.length) audience.push(`provinces: ${d.provinces.join(", ")}`);
  const facts = el("dl", { className: "bc-facts" },
    fact("Topics", (d.topics || []).map(topicName).join(", ")),
    fact("Send time", formatBcTime(d.send_at),
      d.state === "draft" && parseTime(d.send_at) <= Date.now() ? " (passed: it goes as soon as it is approved)" : ""),
    d.started_at ? fact("Started", formatBcTime(d.started_at)) : null,
    d.finished_at ? fact("Finished", formatBcTime(d.finished_at)) : null,
    fact("Written by", el("span", { "data-testid": "broadcast-created-by" }, d.created_by || "?"),
      d.created_at ? ` · ${formatBcTime(d.created_at)}` : ""),
    fact("Approved by", el("span", { "data-testid": "broadcast-approved-by" }, d.approved_by || "not yet"),
      d.approved_at ? ` · ${formatBcTime(d.approved_at)}` : ""),
    fact("Audience", audience.length ? audience.join("; ") : "every subscriber of the topics"),
    fact("Missing translation", d.missing_translation === "skip" ? "skip: those users get nothing" :
      "fallback: those users get the closest language's text"),
    fact("WhatsApp template", d.template_sid ? el("code", {}, d.template_sid) : "none"));

  const actions = el("div", { className: "row bc-actions", role: "group", "aria-label": "Actions" });
  const ownDraft = state.me && d.created_by_id === state.me.id; // a second person approves
  if (options.can_approve && d.state === "draft" && !ownDraft) actions.append(actionButton(d, "approve", "Approve"));
  if (options.can_approve && d.state === "approved") actions.append(actionButton(d, "send-now", "Send now"));
  if (options.can_write && d.state !== "sent" && d.state !== "cancelled") {
    actions.append(actionButton(d, "cancel", "Cancel announcement", "danger"));
  }
  const hint = el("p", { className: "bc-hint", "data-testid": "broadcast-hint" }, stateHint(d, options));

  const parts = [head, facts, hint];
  if (actions.childElementCount) parts.push(actions);
  if (d.state === "sending" || d.state === "sent" || (d.state === "cancelled" && status.recipients)) {
    parts.push(progressSection(status));
  }
  if (d.dry_run) parts.push(dryRunSection(d.dry_run));
  parts.push(previewSection(d));
  $("bc-detail").replaceChildren(...parts);
  $("bc-detail").dataset.id = d.id;
  $("bc-detail").dataset.state = d.state;
  if (focused) $("bc-detail").querySelector(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
}

function stateHint(d, options) {
  const due = parseTime(d.send_at) <= Date.now();
  switch (d.state) {
    case "draft":
      return options.can_approve ? "Draft: a supervisor or admin who did not write it approves it." :
        "Draft: waiting for a supervisor's approval.";
    case "approved":
      return due ? "Approved: it is going out now." : `Approved: it goes out ${formatBcTime(d.send_at)}.`;
    case "sending": return "Being sent: the progress updates by itself.";
    case "sent": return "Sent: every recipient's message was handed to the platforms.";
    case "cancelled": return "Cancelled: nothing more of it is sent.";
    default: return "";
  }
}

const ACTION_TESTIDS = { approve: "broadcast-approve", "send-now": "broadcast-send-now", cancel: "broadcast-cancel" };

function actionButton(d, action, label, className) {
  const button = el("button", { type: "button", className, "data-testid": ACTION_TESTIDS[action] }, label);
  button.addEventListener("click", () => broadcastAction(d, action));
  return button;
}

async function broadcastAction(d, action) {
  const n = d.dry_run?.recipients;
  const who = n === undefined ? "its recipients" : plural(n, "recipient");
  const due = parseTime(d.send_at) <= Date.now();
  const questions = {
    approve: due ? `Approve "${d.title}"? Its send time has come: it goes to ${who} right away.` : "",
    "send-now": `Send "${d.title}" to ${who} now?`,
    cancel: `Cancel "${d.title}"? Nothing more of it will be sent.`,
  };
  if (questions[action] && !window.confirm(questions[action])) return;
  for (const button of $("bc-detail").querySelectorAll(".bc-actions button")) button.disabled = true;
  try {
    const data = await api("POST", `/broadcasts/${d.id}/${action}`, {});
    hideError();
    bc.detailSeq++; // an older GET in flight must not overwrite this
    if (bc.openId === d.id && bc.mode === "detail") renderBroadcastDetail(data);
  } catch (err) {
    reportError(err);
    refreshBroadcastDetail();
  }
  refreshBroadcasts();
}

function progressSection(status) {
  const p = progressOf(status);
  const percent = Math.round((p.value / p.max) * 100);
  const label = p.total ? `${p.handled} of ${plural(p.total, "recipient")} handled (${percent}%)` +
    (status.queued ? `, ${status.queued} waiting` : "") : status.state === "sending" ? "Choosing the recipients…" : "No recipients.";
  return el("section", { className: "bc-section", "aria-labelledby": "bc-progress-title" },
    el("h3", { id: "bc-progress-title" }, "Progress"),
    el("progress", { id: "bc-progress", className: "bc-progress", max: p.max, value: p.value,
      "aria-valuemin": 0, "aria-valuemax": p.max, "aria-valuenow": p.value,
      "aria-labelledby": "bc-progress-title", "aria-describedby": "bc-progress-text",
      "data-testid": "broadcast-progress" }),
    el("p", { id: "bc-progress-text", "data-testid": "broadcast-progress-text" }, label),
    el("div", { className: "bc-results" },
      el("dl", { className: "bc-counts" }, ...BC_COUNTS.map((key) => el("div", { className: `bc-count-${key}` },
        el("dt", {}, key), el("dd", { "data-testid": `broadcast-count-${key}` }, String(status[key] || 0))))),
      countsChart(status)));
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Horizontal bars, one per row (an inline SVG, no library): the announcement outcomes, the
 * dashboard's charts and the small bars in its tables.
 * rows: [{ label, value, barClass, text, tooltip }]; a bar is value / max of barWidth long.
 * The chart is named by its <title>: through titleId (aria-labelledby) or an aria-label.
 */
function barChart({ rows, max, title, titleId, testid, className = "bc-chart", labelWidth = 78,
  barWidth = 220, numWidth = 48, rowHeight = 24, pad = 4, trackClass = "bc-chart-track" }) {
  const width = labelWidth + barWidth + numWidth;
  const height = rowHeight * rows.length;
  const top = Math.max(1, max ?? Math.max(0, ...rows.map((row) => row.value || 0)));
  const chart = svg("svg", { class: className, viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  if (titleId) chart.setAttribute("aria-labelledby", titleId);
  else chart.setAttribute("aria-label", title);
  if (testid) chart.setAttribute("data-testid", testid);
  chart.append(svg("title", titleId ? { id: titleId } : {}, title));
  const maxChars = Math.floor(labelWidth / 7);
  rows.forEach((row, i) => {
    const y = i * rowHeight;
    const textY = y + rowHeight / 2 + 4;
    const value = row.value || 0;
    const label = String(row.label ?? "");
    const group = svg("g", { class: "chart-row" });
    const tooltip = row.tooltip || (label.length > maxChars ? label : "");
    if (tooltip) group.append(svg("title", {}, tooltip));
    if (labelWidth) {
      const shown = label.length > maxChars ? label.slice(0, maxChars - 1) + "…" : label;
      group.append(svg("text", { x: 0, y: textY, class: "bc-chart-label" }, shown));
    }
    group.append(
      svg("rect", { x: labelWidth, y: y + pad, width: barWidth, height: rowHeight - 2 * pad, rx: 3, class: trackClass }),
      svg("rect", { x: labelWidth, y: y + pad, width: value ? Math.min(barWidth, Math.max(2, (value / top) * barWidth)) : 0,
        height: rowHeight - 2 * pad, rx: 3, class: row.barClass, "data-count": value }));
    if (numWidth) {
      group.append(svg("text", { x: labelWidth + barWidth + 6, y: textY, class: "bc-chart-num" }, row.text ?? String(value)));
    }
    chart.append(group);
  });
  return chart;
}

/** Horizontal bars: each outcome's share of the recipients. */
function countsChart(status) {
  const summary = BC_COUNTS.map((key) => `${key} ${status[key] || 0}`).join(", ");
  return barChart({
    rows: BC_COUNTS.map((key) => ({ label: key, value: status[key] || 0, barClass: `bc-bar bc-bar-${key}` })),
    max: Math.max(1, status.recipients || 0),
    title: `Recipients by outcome: ${summary}`, titleId: "bc-chart-title", testid: "broadcast-chart",
  });
}

function countList(title, counts, label, testid, empty) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  return el("div", { className: "bc-dry-group" },
    el("h4", {}, title),
    entries.length ?
      el("ul", {}, ...entries.map(([key, n]) => el("li", { "data-testid": testid, "data-key": key },
        `${label(key)}: `, el("b", {}, String(n))))) :
      el("p", { className: "muted" }, empty));
}

function dryRunSection(dry) {
  return el("section", { className: "bc-section", "aria-labelledby": "bc-dry-title", "data-testid": "broadcast-dry-run" },
    el("h3", { id: "bc-dry-title" }, "Dry run: who would get it now"),
    el("p", { className: "bc-dry-total" },
      el("strong", { "data-testid": "dry-run-recipients" }, String(dry.recipients || 0)),
      ` ${(dry.recipients || 0) === 1 ? "recipient" : "recipients"}`),
    el("div", { className: "bc-dry" },
      countList("By language", dry.by_language, langName, "dry-run-language", "nobody"),
      countList("By channel", dry.by_channel, channelName, "dry-run-channel", "nobody"),
      countList("Skipped, with the reason", dry.skipped, (reason) => reason, "dry-run-skipped", "nobody is skipped")));
}

function previewCard(code, shown) {
  const from = shown.language && shown.language !== code ? shown.language : null;
  return el("article", { className: "bc-preview", "data-testid": "broadcast-preview", "data-lang": code,
    "aria-labelledby": `bc-preview-${code}` },
    el("h4", { id: `bc-preview-${code}` }, `${langName(code)} users`,
      from ? el("span", { className: "muted" }, ` · get the ${LANGS[from] || MORE_LANGS[from] || from} text`) : null),
    el("p", { className: "bc-preview-text", dir: "auto", lang: shown.language || code }, shown.text || ""));
}

function previewSection(d) {
  const preview = d.preview || {};
  const codes = Object.keys(preview).sort(byLanguageOrder);
  const main = codes.filter((code) => BC_LANG_ORDER.includes(code));
  const others = codes.filter((code) => !BC_LANG_ORDER.includes(code));
  const audience = d.languages?.length ? d.languages : [...BC_LANG_ORDER, ...Object.keys(MORE_LANGS)];
  const nothing = audience.filter((code) => !(code in preview));
  const section = el("section", { className: "bc-section", "aria-labelledby": "bc-preview-title" },
    el("h3", { id: "bc-preview-title" }, "What users get, by their language"),
    el("div", { className: "bc-previews" }, ...main.map((code) => previewCard(code, preview[code]))));
  if (others.length) {
    section.append(el("details", { className: "bc-more-previews" },
      el("summary", {}, `Other languages (${others.map((code) => code).join(", ")})`),
      el("div", { className: "bc-previews" }, ...others.map((code) => previewCard(code, preview[code])))));
  }
  if (nothing.length) {
    section.append(el("p", { className: "muted", "data-testid": "broadcast-preview-none" },
      `No text, so nothing is sent to: ${nothing.map(langName).join(", ")}.`));
  }
  return section;
}

// -- Live progress: poll only while the section is shown and something is going out --

function goingOut(b) {
  if (!b) return false;
  if (b.state === "sending") return true;
  return b.state === "approved" && parseTime(b.send_at) <= Date.now() + BC_POLL_MS;
}

function pollBroadcasts() {
  if (!state.me || $("broadcasts-view").hidden || document.visibilityState !== "visible" || bc.polling) return;
  const detail = bc.mode === "detail" && goingOut(bc.detail);
  if (!detail && !bc.list.some(goingOut)) return;
  bc.polling = true;
  Promise.allSettled([refreshBroadcasts(), detail ? refreshBroadcastDetail() : null])
    .finally(() => { bc.polling = false; });
}

// ---- Cases (complaints and suggestions) ----
// #complaints lists them, #complaints/<reference> opens one.

const CASE_CATEGORIES = {
  service_quality: "Quality of a service",
  staff_conduct: "Behaviour of staff",
  sexual_exploitation_abuse: "Sexual exploitation or abuse",
  fraud: "Fraud",
  other: "Other / suggestion",
};
const CASE_STATUSES = { received: "received", in_review: "in review", resolved: "resolved", closed: "closed" };
const CASE_LIMIT = 200;

const cases = {
  list: [],
  statuses: Object.keys(CASE_STATUSES),
  categories: Object.keys(CASE_CATEGORIES),
  openRef: null,  // reference of the open case
  detail: null,   // the open case as last seen (it may be filtered out of the list)
  pending: null,  // {reference, status} chosen in the detail but not saved yet
  saved: null,    // {reference, text}: "Saved: …" under the status, until it changes again
  listSeq: 0,
  saving: false,
  loaded: false,
};

const caseCategory = (code) => CASE_CATEGORIES[code] || code || "?";
const caseStatus = (code) => CASE_STATUSES[code] || code || "?";
const caseHash = (reference) => "#complaints/" + encodeURIComponent(reference);

function resetCases() {
  Object.assign(cases, { list: [], openRef: null, detail: null, pending: null, saved: null, loaded: false, saving: false });
  cases.listSeq++;
  $("cases-rows").replaceChildren();
  $("case-detail").replaceChildren();
  $("cases-count").textContent = "";
  $("cases-filters").reset();
  $("cases-denied").hidden = true;
  $("cases-confidential-note").hidden = true;
  $("cases-empty").hidden = true;
  setCasePane(false);
}

function enterCases() {
  const wasHidden = $("cases-view").hidden;
  showSection("complaints");
  if (wasHidden) refreshCases();
}

/** Fill a filter <select> with "all" and the values the API knows, keeping the choice. */
function fillFilter(select, values, label) {
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, label(v))));
  select.value = values.includes(chosen) ? chosen : "";
}

async function refreshCases() {
  if (!state.me) return;
  const params = new URLSearchParams({ limit: String(CASE_LIMIT) });
  for (const name of ["status", "category"]) {
    const value = $("cases-filter-" + name).value;
    if (value) params.set(name, value);
  }
  const seq = ++cases.listSeq;
  try {
    const data = await api("GET", "/complaints?" + params);
    if (seq !== cases.listSeq || !state.me) return;
    $("cases-denied").hidden = true;
    if (Array.isArray(data.statuses) && data.statuses.length) cases.statuses = data.statuses;
    if (Array.isArray(data.categories) && data.categories.length) cases.categories = data.categories;
    fillFilter($("cases-filter-status"), cases.statuses, caseStatus);
    fillFilter($("cases-filter-category"), cases.categories, caseCategory);
    $("cases-confidential-note").hidden = data.can_read_confidential !== false;
    renderCases(data.complaints || []);
  } catch (err) {
    if (seq !== cases.listSeq) return;
    if (err.status === 403) {
      // this role may not read complaints: say so in the section itself
      cases.list = [];
      $("cases-rows").replaceChildren();
      $("cases-count").textContent = "";
      $("cases-empty").hidden = true;
      $("cases-denied").textContent = err.message;
      $("cases-denied").hidden = false;
    } else {
      reportError(err);
    }
  }
}

function renderCases(list) {
  // newest first, whatever order the API used
  cases.list = [...list].sort((a, b) => (parseTime(b.created_at) || 0) - (parseTime(a.created_at) || 0));
  cases.loaded = true;
  const focusedRef = document.activeElement?.closest?.("#cases-rows [data-reference]")?.dataset.reference;
  $("cases-rows").replaceChildren(...cases.list.map(caseRow));
  if (focusedRef) $("cases-rows").querySelector(`[data-reference="${CSS.escape(focusedRef)}"] a`)?.focus();
  $("cases-empty").hidden = cases.list.length > 0;
  $("cases-count").textContent = `(${cases.list.length}${cases.list.length >= CASE_LIMIT ? "+" : ""})`;
  if (cases.openRef !== null) {
    const fresh = cases.list.find((c) => c.reference === cases.openRef);
    if (fresh) renderCaseDetail(fresh);
    else if (!cases.detail) loadCase(cases.openRef);
  }
  markSelectedCase();
}

function caseRow(c) {
  const link = el("a", { href: caseHash(c.reference), className: "case-ref", dir: "ltr" }, c.reference || "?");
  const row = el("tr", { className: "case-row", "data-testid": "case-row", "data-reference": c.reference,
    "data-status": c.status },
    el("td", {}, link),
    el("td", {},
      el("span", { className: "case-category" }, caseCategory(c.category)),
      c.confidential ? el("span", { className: "badge confidential", "data-testid": "case-confidential" }, "confidential") : null,
      c.anonymous ? el("span", { className: "badge anonymous", "data-testid": "case-anonymous" }, "anonymous") : null),
    el("td", {}, channelName(c.channel || "")),
    el("td", { title: LANGS[c.language] || MORE_LANGS[c.language] || "unknown language" }, langLabel(c.language)),
    el("td", {}, el("time", { datetime: c.created_at || "" }, formatBcTime(c.created_at))),
    el("td", {}, el("span", { className: `tag case-st-${c.status}`, "data-testid": "case-row-status" }, caseStatus(c.status))));
  row.addEventListener("click", (ev) => {
    if (ev.target.closest("a")) return; // the link changes the hash itself
    location.hash = caseHash(c.reference);
  });
  return row;
}

function markSelectedCase() {
  for (const row of document.querySelectorAll("#cases-rows .case-row")) {
    const selected = row.dataset.reference === cases.openRef;
    row.classList.toggle("selected", selected);
    const link = row.querySelector("a");
    if (selected) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

/** The placeholder (no case open) or one case in the right-hand pane. */
function setCasePane(open) {
  $("cases-placeholder").hidden = open;
  $("case-detail").hidden = !open;
  $("cases-view").classList.toggle("show-main", open);
}

function openCase(reference) {
  if (cases.openRef !== reference) {
    Object.assign(cases, { openRef: reference, detail: null, pending: null, saved: null });
  }
  setCasePane(true);
  markSelectedCase();
  const known = cases.list.find((c) => c.reference === reference) || cases.detail;
  if (known) renderCaseDetail(known);
  else if (cases.loaded) loadCase(reference);
  else $("case-detail").replaceChildren(el("p", { className: "muted" }, "Loading…"));
}

/** A case the (filtered) list does not hold, read on its own. */
async function loadCase(reference) {
  $("case-detail").replaceChildren(el("p", { className: "muted" }, "Loading…"));
  try {
    const c = await api("GET", `/complaints/${encodeURIComponent(reference)}`);
    if (cases.openRef === reference) renderCaseDetail(c);
  } catch (err) {
    if (cases.openRef !== reference) return;
    if (err.status === 403 || err.status === 404) renderCaseMissing(err.message);
    else {
      renderCaseMissing("");
      reportError(err);
    }
  }
}

function closeCase() {
  Object.assign(cases, { openRef: null, detail: null, pending: null, saved: null });
  $("case-detail").replaceChildren();
  setCasePane(false);
  markSelectedCase();
}

function caseBack() {
  const back = el("button", { type: "button", className: "back" }, "← Cases");
  back.addEventListener("click", () => { location.hash = "#complaints"; });
  return back;
}

function renderCaseMissing(message) {
  $("case-detail").replaceChildren(el("div", { className: "bc-head" }, caseBack(),
    el("p", { className: "muted", "data-testid": "case-missing" },
      `Case ${cases.openRef}: ${message || "not in the list, check the filters."}`)));
}

function renderCaseDetail(c) {
  cases.detail = c;
  const focused = document.activeElement?.closest?.("#case-detail") ? document.activeElement.dataset.testid : null;
  const pending = cases.pending?.reference === c.reference ? cases.pending.status : null;
  const statuses = cases.statuses.includes(c.status) ? cases.statuses : [...cases.statuses, c.status];

  const head = el("div", { className: "bc-head" }, caseBack(),
    el("div", {},
      el("h2", { dir: "ltr", "data-testid": "case-reference" }, c.reference || "?"),
      el("p", { className: "muted" }, caseCategory(c.category), " · ",
        el("span", { className: `tag case-st-${c.status}`, "data-testid": "case-detail-status" }, caseStatus(c.status)))));

  const flags = [];
  if (c.confidential) flags.push(el("span", { className: "badge confidential" }, "confidential"));
  if (c.anonymous) flags.push(el("span", { className: "badge anonymous" }, "anonymous"));
  const facts = el("dl", { className: "bc-facts case-facts" },
    fact("Category", caseCategory(c.category)),
    flags.length ? fact("Filed", ...flags) : null,
    fact("Channel", channelName(c.channel || "")),
    fact("Language", c.language ? langName(c.language) : "unknown"),
    fact("Received", formatBcTime(c.created_at)),
    c.updated_at ? fact("Last change", formatBcTime(c.updated_at)) : null);

  const text = el("section", { className: "bc-section", "aria-labelledby": "case-text-title" },
    el("h3", { id: "case-text-title" }, "In the user's words"),
    el("p", { className: "case-text", dir: "auto", lang: c.language || null, "data-testid": "case-text" }, c.text || ""));

  const select = el("select", { id: "case-status", "data-testid": "case-status" },
    ...statuses.map((s) => el("option", { value: s }, caseStatus(s))));
  select.value = pending || c.status;
  const save = el("button", { type: "button", id: "case-save", "data-testid": "case-save" }, "Save");
  const saved = el("span", { id: "case-saved", className: "muted", role: "status", "data-testid": "case-saved" },
    cases.saved?.reference === c.reference ? cases.saved.text : "");
  const sync = () => { save.disabled = cases.saving || select.value === c.status; };
  select.addEventListener("change", () => {
    cases.pending = { reference: c.reference, status: select.value };
    cases.saved = null;
    saved.textContent = "";
    sync();
  });
  save.addEventListener("click", () => saveCaseStatus(c, select.value));
  sync();
  const status = el("section", { className: "bc-section", "aria-labelledby": "case-status-title" },
    el("h3", { id: "case-status-title" }, "Status"),
    el("label", { for: "case-status" }, "Change the status"),
    el("div", { className: "row" }, select, save, saved));

  $("case-detail").replaceChildren(head, facts, text, status);
  $("case-detail").dataset.reference = c.reference;
  if (focused) $("case-detail").querySelector(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
}

async function saveCaseStatus(c, status) {
  if (cases.saving || !status || status === c.status) return;
  cases.saving = true;
  $("case-save").disabled = true;
  try {
    const updated = await api("POST", `/complaints/${encodeURIComponent(c.reference)}/status`, { status });
    hideError();
    cases.pending = null;
    const fresh = { ...c, ...updated };
    cases.saved = { reference: fresh.reference, text: `Saved: ${caseStatus(fresh.status)}.` };
    cases.list = cases.list.map((item) => (item.reference === fresh.reference ? fresh : item));
    const row = $("cases-rows").querySelector(`[data-reference="${CSS.escape(fresh.reference)}"]`);
    if (row) row.replaceWith(caseRow(fresh));
    markSelectedCase();
    if (cases.openRef === fresh.reference) {
      cases.saving = false;
      renderCaseDetail(fresh);
    }
  } catch (err) {
    reportError(err); // 422 unknown status, 403 not allowed (confidential), 404 unknown reference
  } finally {
    cases.saving = false;
    if ($("case-save")) $("case-save").disabled = $("case-status")?.value === cases.detail?.status;
  }
  refreshCases(); // a status filter may now leave it out
}

// ---- Dashboard (analytics) ----
// #dashboard: figures over the last 7, 30 or 90 days; every table has its CSV.

const DASH_SERIES = 6;                 // colours for the channels (.dash-series-0..5)
const DASH_OUTCOMES = [
  ["answer", "answered from the knowledge base"],
  ["clarify", "asked which topic was meant"],
  ["fallback", "could not answer"],
];
const DAY_MS = 86400000;
const dayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const sinceFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

const dash = { seq: 0, data: null };

function resetDashboard() {
  dash.seq++;
  dash.data = null;
  $("dash-days").value = "30";
  $("dash-since").textContent = "";
  $("dash-denied").hidden = true;
  for (const body of document.querySelectorAll("#dash-cards .dash-body")) body.replaceChildren();
  updateCsvLinks(30);
}

function enterDashboard() {
  const wasHidden = $("dashboard-view").hidden;
  showSection("dashboard");
  if (wasHidden) refreshDashboard();
}

function dashDays() {
  const days = Number($("dash-days").value);
  return [7, 30, 90].includes(days) ? days : 30;
}

function updateCsvLinks(days) {
  for (const link of document.querySelectorAll("#dash-cards a.csv")) {
    const name = link.dataset.csv;
    link.href = `${API}/analytics/${name}.csv?days=${days}`;
    link.setAttribute("download", `uyum-${name}-${days}d.csv`);
    link.setAttribute("aria-label", `Download ${name.replace(/_/g, " ")} (last ${days} days) as CSV`);
  }
}

async function refreshDashboard() {
  if (!state.me) return;
  const days = dashDays();
  updateCsvLinks(days);
  const seq = ++dash.seq;
  if (!dash.data) {
    for (const body of document.querySelectorAll("#dash-cards .dash-body")) {
      body.replaceChildren(el("p", { className: "muted" }, "Loading…"));
    }
  }
  try {
    const data = await api("GET", `/analytics/summary?days=${days}`);
    if (seq !== dash.seq || !state.me) return;
    $("dash-denied").hidden = true;
    renderDashboard(data);
  } catch (err) {
    if (seq !== dash.seq) return;
    if (err.status === 403) {
      dash.data = null;
      for (const body of document.querySelectorAll("#dash-cards .dash-body")) body.replaceChildren();
      $("dash-denied").textContent = err.message;
      $("dash-denied").hidden = false;
    } else {
      reportError(err);
    }
  }
}

function noData() {
  return el("p", { className: "muted dash-empty", "data-testid": "dash-empty" }, "No data yet");
}

const sum = (values) => values.reduce((total, n) => total + (Number(n) || 0), 0);
const percent = (n, total) => (total ? Math.round((n / total) * 100) : 0);

/** "—" when unknown, else minutes: "0.5 min", "4.0 min", "35 min", "120 min" */
function formatMinutes(seconds) {
  if (seconds === null || seconds === undefined || seconds === "" || Number.isNaN(Number(seconds))) return "—";
  const minutes = Math.max(0, Number(seconds)) / 60;
  return `${minutes < 10 ? minutes.toFixed(1) : Math.round(minutes)} min`;
}

/** A table: headers [{label, num}], rows of cells (text or nodes). */
function dataTable({ testid, caption, headers, rows }) {
  return el("div", { className: "table-wrap" },
    el("table", { className: "data-table", "data-testid": testid },
      caption ? el("caption", { className: "visually-hidden" }, caption) : null,
      el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", className: h.num ? "num" : null }, h.label)))),
      el("tbody", {}, ...rows.map((cells) => el("tr", {},
        ...cells.map((cell, i) => el("td", { className: headers[i]?.num ? "num" : null },
          cell instanceof Node ? cell : String(cell ?? ""))))))));
}

function renderDashboard(d) {
  dash.data = d;
  const days = Number(d.days) || dashDays();
  if ([7, 30, 90].includes(days)) $("dash-days").value = String(days);
  updateCsvLinks(days);
  const since = parseTime(d.since);
  $("dash-since").textContent = Number.isNaN(since) ? "" : `since ${sinceFormat.format(new Date(since))}`;
  const fill = (id, parts) => $(id).replaceChildren(...parts.filter(Boolean)); // null: left out
  fill("dash-messages", messagesSection(d));
  fill("dash-answer-rate", answerRateSection(d.answer_rate || {}));
  fill("dash-top-entries", topEntriesSection(d.top_entries || []));
  fill("dash-feedback", feedbackSection(d.feedback || []));
  fill("dash-handovers", handoversSection(d.handovers || {}));
  fill("dash-broadcasts", broadcastsSection(d.broadcasts || []));
}

// -- Messages per day: a column per day, stacked by channel --

/** Every day from `since` to today (or the last day with data), as "YYYY-MM-DD". */
function dayRange(since, points) {
  const seen = points.map((p) => Date.parse(`${p.day}T00:00:00Z`)).filter((t) => !Number.isNaN(t));
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const start = Date.parse(`${String(since || "").slice(0, 10)}T00:00:00Z`);
  const first = Math.min(...seen, Number.isNaN(start) ? Infinity : start, today);
  const last = Math.max(...seen, today);
  const days = [];
  for (let t = Math.max(first, last - 119 * DAY_MS); t <= last; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** An axis step of 1, 2 or 5 times a power of ten, for about four gridlines. */
function niceStep(max) {
  const rough = Math.max(1, max / 4);
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

function dayChart(days, channels, byDay) {
  const width = 760, height = 250, left = 46, right = 8, top = 10, bottom = 44;
  const plotW = width - left - right, plotH = height - top - bottom;
  const totals = days.map((day) => sum(Object.values(byDay.get(day) || {})));
  const step = niceStep(Math.max(...totals, 1));
  const yMax = Math.max(step, Math.ceil(Math.max(...totals, 1) / step) * step);
  const slot = plotW / days.length;
  const barW = Math.max(1, slot * 0.72);
  const y = (value) => top + plotH - (value / yMax) * plotH;
  const total = sum(totals);
  const title = `Messages per day by channel, ${days[0]} to ${days[days.length - 1]}: ${total} in all; ` +
    channels.map((c) => `${channelName(c)} ${sum(days.map((day) => byDay.get(day)?.[c] || 0))}`).join(", ");
  const chart = svg("svg", { class: "dash-chart dash-day-chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": title, "data-testid": "chart-messages", preserveAspectRatio: "xMinYMin meet" });
  chart.append(svg("title", {}, title));

  for (let v = 0; v <= yMax; v += step) {
    chart.append(
      svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: v ? "dash-grid" : "dash-axis" }),
      svg("text", { x: left - 6, y: y(v) + 4, class: "dash-tick", "text-anchor": "end" }, String(v)));
  }
  chart.append(svg("text", { class: "dash-axis-title", "text-anchor": "middle",
    transform: `translate(12 ${top + plotH / 2}) rotate(-90)` }, "Messages"));

  const labelEvery = Math.ceil(days.length / 8);
  days.forEach((day, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const counts = byDay.get(day) || {};
    const date = new Date(`${day}T00:00:00Z`);
    let base = 0;
    channels.forEach((channel, c) => {
      const n = counts[channel] || 0;
      if (!n) return;
      const bar = svg("rect", { x, y: y(base + n), width: barW, height: Math.max(1, (n / yMax) * plotH),
        class: `dash-bar dash-series-${c % DASH_SERIES}`, "data-day": day, "data-channel": channel, "data-count": n });
      bar.append(svg("title", {}, `${dayFormat.format(date)} · ${channelName(channel)}: ${n}`));
      chart.append(bar);
      base += n;
    });
    if (i % labelEvery === 0) {
      chart.append(svg("text", { x: left + i * slot + slot / 2, y: top + plotH + 16, class: "dash-tick",
        "text-anchor": "middle" }, dayFormat.format(date)));
    }
  });
  chart.append(svg("text", { x: left + plotW / 2, y: height - 6, class: "dash-axis-title", "text-anchor": "middle" }, "Day"));
  return chart;
}

function messagesSection(d) {
  const points = (d.messages_per_day || []).filter((p) => p && p.day && Number(p.messages) > 0);
  if (!points.length) return [noData()];
  const days = dayRange(d.since, points);
  const channels = [...new Set(points.map((p) => p.channel || "?"))].sort();
  const byDay = new Map(days.map((day) => [day, {}]));
  const byLanguage = new Map();
  for (const p of points) {
    const counts = byDay.get(p.day);
    const channel = p.channel || "?";
    if (counts) counts[channel] = (counts[channel] || 0) + Number(p.messages);
    const lang = p.language || "?";
    byLanguage.set(lang, (byLanguage.get(lang) || 0) + Number(p.messages));
  }
  const total = sum(points.map((p) => p.messages));
  const channelTotal = (channel) => sum(points.filter((p) => (p.channel || "?") === channel).map((p) => p.messages));
  const legend = el("ul", { className: "dash-legend", "aria-label": "Channels" },
    ...channels.map((channel, i) => el("li", {},
      el("span", { className: `dash-swatch dash-series-${i % DASH_SERIES}`, "aria-hidden": "true" }),
      `${channelName(channel)}: ${channelTotal(channel)}`)));
  const languages = [...byLanguage.entries()].sort((a, b) => b[1] - a[1]);
  const table = dataTable({
    testid: "dash-messages-languages", caption: "Messages by language",
    headers: [{ label: "Language" }, { label: "Messages", num: true }, { label: "Share", num: true }],
    rows: languages.map(([lang, n]) => [lang === "?" ? "unknown" : langName(lang), n, `${percent(n, total)}%`]),
  });
  return [
    el("p", { className: "dash-figure" }, String(total), el("span", { className: "muted" }, ` ${total === 1 ? "message" : "messages"}`)),
    el("div", { className: "dash-split" },
      el("div", { className: "dash-chart-box" }, dayChart(days, channels, byDay), legend),
      el("div", { className: "dash-side" }, el("h4", {}, "By language"), table)),
  ];
}

// -- Answer rate, top answers, feedback --

function answerRateSection(rate) {
  const total = sum(DASH_OUTCOMES.map(([key]) => rate[key]));
  if (!total) return [noData()];
  const rows = DASH_OUTCOMES.map(([key]) => {
    const n = Number(rate[key]) || 0;
    return { label: key, value: n, barClass: `dash-bar dash-bar-${key}`, text: `${n} (${percent(n, total)}%)` };
  });
  const title = `Knowledge-base decisions: ${rows.map((r) => `${r.label} ${r.text}`).join(", ")}`;
  return [
    el("p", { className: "dash-figure", "data-testid": "dash-answer-percent" }, `${percent(rate.answer || 0, total)}%`,
      el("span", { className: "muted" }, ` answered, of ${total} questions`)),
    barChart({ rows, max: total, title, testid: "chart-answer-rate", className: "dash-chart", labelWidth: 70,
      barWidth: 240, numWidth: 96, rowHeight: 28 }),
    el("ul", { className: "dash-notes muted" }, ...DASH_OUTCOMES.map(([key, meaning]) => el("li", {}, el("b", {}, key), `: ${meaning}`))),
  ];
}

function topEntriesSection(entries) {
  const rows = entries.filter((e) => e && e.entry_id).slice(0, 10)
    .map((e) => ({ label: e.entry_id, value: Number(e.answers) || 0, barClass: "dash-bar dash-bar-entry" }));
  if (!rows.length) return [noData()];
  const title = `Most given answers: ${rows.map((r) => `${r.label} ${r.value}`).join(", ")}`;
  return [
    barChart({ rows, title, testid: "chart-top-entries", className: "dash-chart", labelWidth: 170, barWidth: 230,
      numWidth: 48, rowHeight: 24 }),
    entries.length > rows.length ? el("p", { className: "muted hint" }, `The top ${rows.length}; the CSV has all ${entries.length}.`) : null,
  ];
}

/** A small bar in a table cell: the 👍 share of an answer's votes. */
function ratioBar(up, down) {
  const votes = up + down;
  return barChart({ rows: [{ value: up, barClass: "dash-bar dash-bar-up" }], max: Math.max(1, votes),
    title: `${percent(up, votes)}% 👍 (${up} of ${votes})`, className: "dash-inline-bar", labelWidth: 0,
    barWidth: 80, numWidth: 0, rowHeight: 14, pad: 2, trackClass: "dash-track-down" });
}

function feedbackSection(feedback) {
  const rows = feedback.filter((f) => f && f.entry_id);
  if (!rows.length) return [noData()];
  return [dataTable({
    testid: "dash-feedback-table", caption: "Thumbs up and down per answer",
    headers: [{ label: "Answer" }, { label: "👍 helpful", num: true }, { label: "👎 not helpful", num: true },
      { label: "👍 ratio" }],
    rows: rows.map((f) => {
      const up = Number(f.up) || 0, down = Number(f.down) || 0;
      const ratio = f.ratio ?? (up + down ? up / (up + down) : null);
      return [f.entry_id, up, down, el("span", { className: "dash-ratio" }, ratioBar(up, down),
        ratio === null ? " —" : ` ${Math.round(ratio * 100)}%`)];
    }),
  })];
}

// -- Handovers and announcements --

function handoversSection(h) {
  const count = Number(h.count) || 0;
  const wait = h.waiting_seconds || {};
  const handle = h.handling_seconds || {};
  return [
    el("p", { className: "dash-figure", "data-testid": "dash-handover-count" }, String(count),
      el("span", { className: "muted" }, ` ${count === 1 ? "handover" : "handovers"} to an operator`)),
    count ? null : noData(),
    dataTable({
      testid: "dash-handovers-table", caption: "Handover times in minutes",
      headers: [{ label: "" }, { label: "p50 (median)", num: true }, { label: "p90", num: true }, { label: "p99", num: true }],
      rows: [
        ["Waiting for an operator", formatMinutes(wait.p50), formatMinutes(wait.p90), formatMinutes(wait.p99)],
        ["Handling, until closed", formatMinutes(handle.p50), formatMinutes(handle.p90), formatMinutes(handle.p99)],
      ],
    }),
    el("p", { className: "muted hint" }, "p90: nine handovers in ten took at most this long."),
  ];
}

function broadcastsSection(broadcasts) {
  if (!broadcasts.length) return [noData()];
  return [dataTable({
    testid: "dash-broadcasts-table", caption: "Announcement reach",
    headers: [{ label: "Announcement" }, ...["recipients", "sent", "delivered", "read", "failed", "skipped"]
      .map((key) => ({ label: key, num: true }))],
    rows: broadcasts.map((b) => [
      el("a", { href: `#b${b.id}`, dir: "auto" }, b.title || `#${b.id}`),
      b.recipients || 0, b.sent || 0, b.delivered || 0, b.read || 0, b.failed || 0, b.skipped || 0,
    ]),
  })];
}

// ---- Content gaps (unanswered questions, grouped by meaning) ----
// #gaps: for editors, supervisors and admins; each group can be drafted as a knowledge-base entry.

const GAP_KINDS = { fallback: "no answer", clarify: "asked to clarify", negative_feedback: "👎 on the answer" };
const GAP_DAYS = [7, 30, 90];
const GAP_DEFAULT_DAYS = 90;
const GAP_EXAMPLES = 5;
const GAP_NOTE = "Write the answer in every required language from an official source, then add the file to " +
  "knowledge_base/content/ (or, later, through the content editor). Never guess a fee, date or phone number.";
const gapDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

const gapsState = {
  seq: 0,         // drops out-of-order listings (and drafts of a listing no longer shown)
  loaded: false,
  query: null,    // the days/language of the listing shown: a draft is asked with the same ones
  blobUrls: [],   // draft downloads, revoked when the list is redrawn
};

const gapKind = (kind) => GAP_KINDS[kind] || String(kind).replace(/_/g, " ");
/** A language code fit for a lang attribute (the API gives two or three lowercase letters). */
const gapLang = (code) => (/^[a-z]{2,3}$/.test(code || "") ? code : "");

function revokeGapDownloads() {
  for (const url of gapsState.blobUrls) URL.revokeObjectURL(url);
  gapsState.blobUrls = [];
}

function resetGaps() {
  gapsState.seq++;
  Object.assign(gapsState, { loaded: false, query: null });
  revokeGapDownloads();
  $("gaps-days").value = String(GAP_DEFAULT_DAYS);
  $("gaps-language").value = "";
  $("gaps-list").replaceChildren();
  $("gaps-count").textContent = "";
  for (const id of ["gaps-denied", "gaps-empty", "gaps-loading"]) $(id).hidden = true;
}

function enterGaps() {
  const wasHidden = $("gaps-view").hidden;
  showSection("gaps");
  if (wasHidden) refreshGaps();
}

/** The filters as chosen: { days, language } (language "" = all). */
function gapsQuery() {
  const days = Number($("gaps-days").value);
  const language = gapLang($("gaps-language").value);
  return { days: GAP_DAYS.includes(days) ? days : GAP_DEFAULT_DAYS, language };
}

function gapsParams(query) {
  const params = new URLSearchParams({ days: String(query.days) });
  if (query.language) params.set("language", query.language);
  return params;
}

async function refreshGaps() {
  if (!state.me) return;
  const query = gapsQuery();
  const seq = ++gapsState.seq;
  $("gaps-loading").hidden = gapsState.loaded; // grouping may take a moment the first time
  $("gaps-list").setAttribute("aria-busy", "true");
  try {
    const data = await api("GET", "/analytics/gaps?" + gapsParams(query));
    if (seq !== gapsState.seq || !state.me) return;
    $("gaps-denied").hidden = true;
    renderGaps(data, query);
  } catch (err) {
    if (seq !== gapsState.seq) return;
    if (err.status === 403) {
      // this role may not read the content gaps: say so in the section itself
      gapsState.loaded = false;
      gapsState.query = null;
      revokeGapDownloads();
      $("gaps-list").replaceChildren();
      $("gaps-count").textContent = "";
      $("gaps-empty").hidden = true;
      $("gaps-denied").textContent = err.message;
      $("gaps-denied").hidden = false;
    } else {
      reportError(err);
    }
  } finally {
    if (seq === gapsState.seq) {
      $("gaps-loading").hidden = true;
      $("gaps-list").removeAttribute("aria-busy");
    }
  }
}

function renderGaps(data, query) {
  const clusters = (Array.isArray(data.clusters) ? data.clusters : [])
    .filter((c) => c && Number.isInteger(Number(c.number)));
  const days = Number(data.days);
  gapsState.query = { ...query, days: GAP_DAYS.includes(days) ? days : query.days };
  gapsState.loaded = true;
  revokeGapDownloads();
  const biggest = Math.max(1, ...clusters.map((c) => Number(c.size) || 0));
  $("gaps-list").replaceChildren(...clusters.map((c) => gapItem(c, biggest)));
  $("gaps-count").textContent = clusters.length ? `(${clusters.length})` : "";
  $("gaps-empty").hidden = clusters.length > 0;
}

/** <time> with a date only: "2 Nov 2026". */
function gapTime(iso) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return el("span", { className: "muted" }, "—");
  const d = new Date(t);
  return el("time", { datetime: d.toISOString(), title: dateTimeFormat.format(d) }, gapDate.format(d));
}

function gapItem(c, biggest) {
  const number = Number(c.number);
  const size = Number(c.size) || 0;
  const lang = gapLang(c.language);
  const titleId = `gap-title-${number}`;
  const kinds = Object.entries(c.kinds || {}).filter(([, n]) => Number(n) > 0);
  const near = Object.entries(c.near_entries || {}).filter(([id]) => id);
  const examples = (Array.isArray(c.examples) ? c.examples : []).slice(0, GAP_EXAMPLES);

  const bar = barChart({ rows: [{ value: size, barClass: "gap-bar" }], max: biggest,
    title: `${plural(size, "question")}; the biggest group has ${biggest}`, className: "gap-size-bar",
    labelWidth: 0, barWidth: 140, numWidth: 0, rowHeight: 14, pad: 2 });

  const facts = el("dl", { className: "gap-facts" },
    el("div", {}, el("dt", {}, "What left them"),
      el("dd", { className: "gap-kinds", "data-testid": "gap-kinds" }, ...(kinds.length
        ? kinds.map(([kind, n]) => el("span", { className: `badge gap-kind gap-kind-${/^[a-z_]+$/.test(kind) ? kind : "other"}`,
          "data-kind": kind }, `${gapKind(kind)}: ${n}`))
        : [el("span", { className: "muted" }, "—")]))),
    el("div", {}, el("dt", {}, "Near entries"),
      el("dd", { "data-testid": "gap-near" }, ...(near.length
        ? near.map(([id, n]) => el("span", { className: "gap-entry", title: `${plural(Number(n) || 0, "question")} came close to it` },
          el("code", {}, id), ` (${Number(n) || 0})`))
        : [el("span", { className: "muted" }, "none")]))),
    el("div", {}, el("dt", {}, "First seen"), el("dd", {}, gapTime(c.first_at))),
    el("div", {}, el("dt", {}, "Last seen"), el("dd", {}, gapTime(c.last_at))));

  const exampleList = el("div", { className: "gap-examples-box" },
    el("h4", {}, examples.length < size ? `Examples (${examples.length} of ${size})` : "Questions"),
    el("ul", { className: "gap-examples", "data-testid": "gap-examples" },
      ...examples.map((text) => el("li", { dir: "auto", lang: lang || null }, String(text)))));

  const draftButton = el("button", { type: "button", className: "secondary gap-draft-button", "data-testid": "gap-draft",
    "aria-expanded": "false", "aria-controls": `gap-draft-${number}` }, "Draft an entry");
  const draftError = el("p", { className: "form-error gap-draft-error", role: "alert", "data-testid": "gap-draft-error" });
  const draftBox = el("div", { className: "gap-draft", id: `gap-draft-${number}`, hidden: true });

  const item = el("li", { className: "gap-cluster", "data-testid": "gap-cluster", "data-number": number,
    "data-language": lang || null, "aria-labelledby": titleId },
    el("div", { className: "gap-head" },
      el("h3", { id: titleId }, `Group ${number}: `, el("span", { "data-testid": "gap-size" }, plural(size, "question"))),
      bar,
      el("span", { className: "tag", title: LANGS[lang] || MORE_LANGS[lang] || "language",
        "data-testid": "gap-language" }, lang ? langName(lang) : "unknown language")),
    el("div", { className: "gap-body" }, facts, exampleList),
    el("div", { className: "row gap-actions" }, draftButton),
    draftError,
    draftBox);
  draftButton.addEventListener("click", () => loadGapDraft(number, draftButton, draftBox, draftError));
  return item;
}

async function loadGapDraft(number, button, box, error) {
  const query = gapsState.query;
  if (!query || !state.me) return;
  const seq = gapsState.seq;
  button.disabled = true;
  button.textContent = "Drafting…";
  error.textContent = "";
  try {
    const data = await api("GET", `/analytics/gaps/${number}/draft?` + gapsParams(query));
    if (seq !== gapsState.seq || !state.me) return; // the list was redrawn meanwhile
    renderGapDraft(number, data, box);
    button.setAttribute("aria-expanded", "true");
  } catch (err) {
    if (seq !== gapsState.seq) return;
    if (err.status === 404) error.textContent = `${err.message}: the questions changed since the list was loaded, refresh it.`;
    else if (err.status === 403) error.textContent = err.message;
    else reportError(err);
  } finally {
    button.disabled = false;
    button.textContent = "Draft an entry";
  }
}

function renderGapDraft(number, data, box) {
  const text = String(data.yaml || "");
  let filename = String(data.filename || "").replace(/[^\w.-]+/g, "-");
  if (!/\.ya?ml$/i.test(filename)) filename = `draft-gap-${number}.yml`;
  const url = URL.createObjectURL(new Blob([text], { type: "application/x-yaml;charset=utf-8" }));
  gapsState.blobUrls.push(url);
  const old = box.querySelector("a[data-testid=gap-draft-download]");
  if (old) {
    gapsState.blobUrls = gapsState.blobUrls.filter((u) => u !== old.href);
    URL.revokeObjectURL(old.href);
  }
  const yamlId = `gap-draft-yaml-${number}`;
  const lines = text.split("\n").length;
  box.replaceChildren(
    el("label", { for: yamlId }, "Draft entry ", el("code", {}, filename)),
    el("textarea", { id: yamlId, className: "gap-draft-yaml", "data-testid": "gap-draft-yaml", readonly: true,
      dir: "ltr", spellcheck: "false", wrap: "off", rows: Math.min(24, Math.max(6, lines)) }),
    el("p", { className: "gap-note", "data-testid": "gap-draft-note" }, GAP_NOTE),
    el("div", { className: "row" },
      el("a", { className: "gap-download", href: url, download: filename, "data-testid": "gap-draft-download" },
        "Download ", filename)));
  box.querySelector("textarea").value = text;
  box.hidden = false;
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

  $("bc-new").addEventListener("click", () => { location.hash = "#broadcasts/new"; });
  $("bc-form").addEventListener("submit", submitBroadcast);
  $("bc-form-cancel").addEventListener("click", () => { resetBroadcastForm(); location.hash = "#broadcasts"; });
  for (const back of document.querySelectorAll("#bc-form .bc-back")) {
    back.addEventListener("click", () => { location.hash = "#broadcasts"; });
  }
  $("bc-provinces").addEventListener("change", updateProvincesHint);

  $("cases-filters").addEventListener("change", refreshCases);
  $("cases-filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("dash-days").addEventListener("change", refreshDashboard);
  $("dash-refresh").addEventListener("click", refreshDashboard);
  $("gaps-days").addEventListener("change", refreshGaps);
  $("gaps-language").addEventListener("change", refreshGaps);
  $("gaps-refresh").addEventListener("click", refreshGaps);

  setInterval(tickWaits, 1000);
  setInterval(pollBroadcasts, BC_POLL_MS); // only does something while a broadcast goes out
  // Safety net in case a proxy buffers the event stream.
  setInterval(() => state.me && refreshQueue(), 30000);

  // Already signed in? (session cookie)
  api("GET", "/auth/me", undefined, { allow401: true })
    .then(enterApp)
    .catch((err) => showLogin(err.status === 401 ? "" : err.message));
}

document.addEventListener("DOMContentLoaded", init);
