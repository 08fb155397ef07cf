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

// ---- Routing: #c<id> opens a conversation, #broadcasts the announcements (phone back button works) ----

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

/** Which part of the app is shown: "handovers" (queue + conversation) or "broadcasts". */
function showSection(name) {
  const broadcasts = name === "broadcasts";
  $("layout").hidden = broadcasts;
  $("broadcasts-view").hidden = !broadcasts;
  for (const [id, active] of [["nav-handovers", !broadcasts], ["nav-broadcasts", broadcasts]]) {
    if (active) $(id).setAttribute("aria-current", "page");
    else $(id).removeAttribute("aria-current");
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

/** Horizontal bars: each outcome's share of the recipients (an inline SVG, no library). */
function countsChart(status) {
  const rowHeight = 24, labelWidth = 78, barWidth = 220, width = labelWidth + barWidth + 48;
  const total = Math.max(1, status.recipients || 0);
  const summary = BC_COUNTS.map((key) => `${key} ${status[key] || 0}`).join(", ");
  const chart = svg("svg", { class: "bc-chart", viewBox: `0 0 ${width} ${rowHeight * BC_COUNTS.length}`,
    width, height: rowHeight * BC_COUNTS.length, role: "img", "aria-labelledby": "bc-chart-title",
    "data-testid": "broadcast-chart" });
  chart.append(svg("title", { id: "bc-chart-title" }, `Recipients by outcome: ${summary}`));
  BC_COUNTS.forEach((key, i) => {
    const y = i * rowHeight;
    const count = status[key] || 0;
    chart.append(
      svg("text", { x: 0, y: y + 16, class: "bc-chart-label" }, key),
      svg("rect", { x: labelWidth, y: y + 4, width: barWidth, height: rowHeight - 8, rx: 3, class: "bc-chart-track" }),
      svg("rect", { x: labelWidth, y: y + 4, width: count ? Math.max(2, (count / total) * barWidth) : 0,
        height: rowHeight - 8, rx: 3, class: `bc-bar bc-bar-${key}`, "data-count": count }),
      svg("text", { x: labelWidth + barWidth + 6, y: y + 16, class: "bc-chart-num" }, String(count)));
  });
  return chart;
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
