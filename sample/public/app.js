// The sample chat page: sign-in, rooms, the message stream and the Mesa connection, in plain JavaScript.
import { api, clearSession, loadSession, saveSession } from './api.js';
import { MesaSocket } from './mesa-socket.js';
import { startMetricsPanel } from './metrics-panel.js';
import { feedOf, isMember, renderMembers, renderRoom, renderRooms, renderTyping } from './panels.js';
import { avatar, messageItem, systemItem, wireItem } from './view.js';

const $ = (id) => document.getElementById(id);
const TYPING_SEND_EVERY_MS = 2500;
const TYPING_SHOW_MS = 4000;
const WIRE_LIMIT = 80;

const state = {
  session: null, // { user, token, mesa: { replica, replicas, port }, expiresAt }
  socket: null,
  rooms: new Map(), // id → { id, name, topic, members: [{ id, name, online }] }
  current: 'general',
  feeds: new Map(), // room id → [<li>]
  unread: new Map(),
  status: new Map(), // user id → { status: online | away | offline, version } (the newest change the page has seen)
  tab: randomHex(8), // this tab, for the API to tell it apart from the user's other tabs (VISIBILITY)
  typing: new Map(), // room id → Map(user id → { name, until })
  redelivered: 0,
  kicked: null,
  signingOut: false,
  reconnectDelay: 1000,
  reconnectTimer: undefined,
  lastTypingSent: 0,
  stopMetrics: undefined, // set once the Dispatches panel polls /metrics
};

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

const me = () => state.session.user;
const joined = (room) => isMember(room, me().id);
const feed = (roomId) => feedOf(state, roomId);
const call = (method, path, body) => api(method, path, state.session?.token, body);

async function boot() {
  wireStaticHandlers();
  const stored = loadSession();
  if (!stored) return showSignIn();
  try {
    start({ ...stored, ...(await api('GET', '/api/session', stored.token)) });
  } catch {
    clearSession();
    showSignIn('Your session ended; sign in again.');
  }
}

function showSignIn(message) {
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-error').hidden = !message;
  $('signin-error').textContent = message ?? '';
  $('signin-name').focus();
}

function start(session) {
  state.session = session;
  saveSession(session);
  $('signin').hidden = true;
  $('app').hidden = false;
  $('me-name').textContent = me().name;
  $('me-avatar').replaceWith(Object.assign(avatar(me(), 'small'), { id: 'me-avatar' }));
  const { replica, replicas, port } = session.mesa;
  $('detail-replica').textContent = `replica ${replica} of ${replicas} (:${port})`;
  loadRooms();
  connect();
  state.stopMetrics ??= startMetricsPanel();
}

async function loadRooms() {
  let rooms;
  try {
    rooms = await call('GET', '/api/rooms');
  } catch (error) {
    return error.status === 401 ? showNotice('Your session has expired.', 'Sign in again', signOut) : showNotice(error.message);
  }
  for (const room of rooms) {
    state.rooms.set(room.id, room);
    room.members.forEach((member) => setStatus(member.id, member.status, room.presenceVersion));
  }
  render();
}

/** Keeps `status` for `userId` unless the page already saw a newer change (a `PRESENCE` push can overtake an answer). */
function setStatus(userId, status, version) {
  const known = state.status.get(userId);
  if (!known || version >= known.version) state.status.set(userId, { status, version });
}

function connect() {
  clearTimeout(state.reconnectTimer);
  const socket = new MesaSocket(`ws://${location.hostname}:${state.session.mesa.port}`, state.session.token);
  state.socket = socket;
  socket.addEventListener('state', ({ detail }) => onSocketState(detail));
  socket.addEventListener('frame', ({ detail }) => logFrame(detail.direction, detail.frame));
  socket.addEventListener('heartbeat', ({ detail }) => ($('detail-heartbeats').textContent = String(detail.count)));
  socket.addEventListener('dispatch', ({ detail }) => onDispatch(detail));
  socket.addEventListener('closed', ({ detail }) => onClosed(socket, detail));
  socket.connect();
}

function onSocketState(socketState) {
  const labels = { connecting: 'Connecting to Mesa…', authenticating: 'Authenticating…', authenticated: 'Live', closed: 'Offline' };
  setConnection(socketState, labels[socketState]);
  if (socketState !== 'authenticated') return;
  state.reconnectDelay = 1000;
  hideNotice();
  sendVisibility();
  loadRooms();
}

/**
 * Tells the API, over the Mesa socket, whether this tab is hidden. Presence itself comes from Mesa's socket
 * events: this only makes a connected user `away` while every tab of theirs is hidden.
 */
function sendVisibility() {
  state.socket?.sendEvent('VISIBILITY', { tab: state.tab, hidden: document.hidden });
}

function onClosed(socket, { code }) {
  if (socket !== state.socket || state.signingOut) return;
  const mine = state.status.get(me().id);
  state.status.set(me().id, { status: 'offline', version: mine?.version ?? 0 });
  renderMembers(state, kick);
  if (state.kicked) {
    setConnection('kicked', 'Disconnected', code);
    return showNotice(`${state.kicked.by.name} removed you from #${state.kicked.room} and closed your connection.`, 'Reconnect', () => {
      state.kicked = null;
      connect();
    });
  }
  if (code === 1008) {
    setConnection('refused', 'Refused', code);
    return showNotice('Mesa refused this session (its token is invalid or expired).', 'Sign in again', signOut);
  }
  const seconds = Math.round(state.reconnectDelay / 1000);
  setConnection('reconnecting', `Reconnecting in ${seconds} s`, code);
  showNotice(`Connection lost (code ${code}). Reconnecting in ${seconds} s; messages sent meanwhile will be redelivered.`);
  state.reconnectTimer = setTimeout(connect, state.reconnectDelay);
  state.reconnectDelay = Math.min(state.reconnectDelay * 2, 15000);
}

function onDispatch({ type, data, sequence }) {
  if (type === 'NEW_MESSAGE') return addMessage(data, { sequence });
  if (type === 'TYPING') {
    const typers = state.typing.get(data.room) ?? state.typing.set(data.room, new Map()).get(data.room);
    typers.set(data.user.id, { name: data.user.name, until: Date.now() + TYPING_SHOW_MS });
    return renderTyping(state);
  }
  if (type === 'PRESENCE') {
    setStatus(data.user.id, data.status, data.version);
    return renderMembers(state, kick);
  }
  if (type === 'PRESENCE_PROBE') return sendVisibility(); // one of this user's sockets closed: the API asks who is still here
  if (type === 'ROOM_UPDATED') return updateRoom(data);
  if (type === 'KICKED') {
    state.kicked = data; // the server closes the socket next; onClosed explains and does not reconnect
    const room = state.rooms.get(data.room);
    if (room) state.rooms.set(room.id, { ...room, members: room.members.filter((member) => member.id !== me().id) });
    render();
  }
}

function addMessage(message, { own = false, sequence } = {}) {
  if (sequence) $('detail-redelivered').textContent = String(++state.redelivered);
  if (sequence === 1) note(message.room, 'Posted while you were offline: stored in Redis, redelivered by Mesa');
  state.typing.get(message.room)?.delete(message.author.id);
  const item = messageItem(message, { own, sequence });
  feed(message.room).push(item);
  if (message.room === state.current) {
    $('messages').querySelector('.empty')?.remove();
    $('messages').append(item);
    item.scrollIntoView({ block: 'end' });
    renderTyping(state);
  } else {
    state.unread.set(message.room, (state.unread.get(message.room) ?? 0) + 1);
    renderRooms(state, selectRoom);
  }
}

function updateRoom(room) {
  const before = new Map((state.rooms.get(room.id)?.members ?? []).map((member) => [member.id, member]));
  const after = new Set(room.members.map((member) => member.id));
  room.members.filter((member) => !before.has(member.id)).forEach((member) => note(room.id, `${member.name} joined #${room.name}`));
  [...before.values()].filter((member) => !after.has(member.id)).forEach((member) => note(room.id, `${member.name} left #${room.name}`));
  room.members.forEach((member) => setStatus(member.id, member.status, room.presenceVersion));
  state.rooms.set(room.id, room);
  render();
}

function note(roomId, text) {
  const item = systemItem(text);
  feed(roomId).push(item);
  if (roomId !== state.current) return;
  $('messages').querySelector('.empty')?.remove();
  $('messages').append(item);
}

function render() {
  renderRooms(state, selectRoom);
  renderRoom(state);
  renderMembers(state, kick);
}

function setConnection(connectionState, text, closeCode) {
  const live = connectionState === 'authenticated';
  $('connection').dataset.state = connectionState;
  $('connection-text').textContent = live ? 'Live' : text;
  $('connection-detail').textContent = live ? ` · Mesa replica ${state.session.mesa.replica}` : '';
  $('detail-socket').textContent = closeCode === undefined ? connectionState : `closed (${closeCode}) · ${connectionState}`;
}

function logFrame(direction, frame) {
  if (frame.op === 1 || frame.op === 11) return; // heartbeats are counted in the details, not listed
  const list = $('wire');
  list.append(wireItem(direction, frame));
  while (list.children.length > WIRE_LIMIT) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function showNotice(text, actionLabel, action) {
  $('notice').hidden = false;
  $('notice-text').textContent = text;
  $('notice-action').hidden = !actionLabel;
  $('notice-action').textContent = actionLabel ?? '';
  $('notice-action').onclick = action ?? null;
}

function hideNotice() {
  $('notice').hidden = true;
}

/** Opens or closes the side panel where it does not fit beside the chat (below 1000 px wide). */
function togglePanel(open = $('app').dataset.panel !== 'open') {
  $('app').dataset.panel = open ? 'open' : 'closed';
  $('panel-toggle').setAttribute('aria-expanded', String(open));
}

function selectRoom(roomId) {
  state.current = roomId;
  state.unread.delete(roomId);
  render();
  loadRooms(); // members of rooms the user is not in are not pushed live
  if (joined(state.rooms.get(roomId))) $('message-input').focus();
}

async function kick(member) {
  try {
    updateRoom(await call('POST', `/api/rooms/${state.current}/kick`, { userId: member.id }));
  } catch (error) {
    showNotice(error.message);
  }
}

async function changeMembership(action) {
  try {
    updateRoom(await call('POST', `/api/rooms/${state.current}/${action}`));
  } catch (error) {
    showNotice(error.message);
  }
}

async function signOut() {
  state.signingOut = true;
  state.socket?.close(1000); // the Mesa server tells the API the socket closed: that is what makes you offline
  clearSession();
  location.reload();
}

function wireStaticHandlers() {
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      start(await api('POST', '/api/session', undefined, { name: $('signin-name').value }));
    } catch (error) {
      showSignIn(error.message);
    }
  });
  $('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('message-input');
    const text = input.value.trim();
    if (!text) return;
    try {
      addMessage(await call('POST', `/api/rooms/${state.current}/messages`, { text }), { own: true });
      input.value = '';
      state.lastTypingSent = 0;
    } catch (error) {
      showNotice(`Not sent: ${error.message}`);
    }
  });
  $('message-input').addEventListener('input', () => {
    if (Date.now() - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    // Over the Mesa socket: the API hears it through Mesa's Portal (HTTP would cost a request each time).
    if (state.socket?.sendEvent('TYPING', { room: state.current })) state.lastTypingSent = Date.now();
  });
  $('join-room').addEventListener('click', () => changeMembership('join'));
  $('leave-room').addEventListener('click', () => changeMembership('leave'));
  $('signout').addEventListener('click', signOut);
  document.addEventListener('visibilitychange', sendVisibility);
  $('panel-toggle').addEventListener('click', () => togglePanel());
  addEventListener('keydown', (event) => event.key === 'Escape' && togglePanel(false));
  setInterval(() => state.session && renderTyping(state), 1000);
}

boot();
