// The page's panels, drawn from the app state: room list, current room, members, typing line.
import { memberItem, roomItem, systemItem } from './view.js';

const $ = (id) => document.getElementById(id);

/** Whether `userId` is a member of `room`. */
export const isMember = (room, userId) => !!room?.members.some((member) => member.id === userId);

/** The list of `<li>` shown for a room (created on first use). */
export const feedOf = (state, roomId) => state.feeds.get(roomId) ?? state.feeds.set(roomId, []).get(roomId);

/** Rooms the user is in first, each with its unread count. */
export function renderRooms(state, onSelect) {
  const me = state.session.user.id;
  const rooms = [...state.rooms.values()].sort((a, b) => Number(isMember(b, me)) - Number(isMember(a, me)));
  const items = rooms.map((room) =>
    roomItem(room, { active: room.id === state.current, joined: isMember(room, me), unread: state.unread.get(room.id) ?? 0, onSelect }),
  );
  $('room-list').replaceChildren(...items);
}

/** The current room: title, topic, its messages, and the composer or a Join bar. */
export function renderRoom(state) {
  const room = state.rooms.get(state.current);
  if (!room) return;
  const joined = isMember(room, state.session.user.id);
  $('room-title').textContent = `#${room.name}`;
  $('room-topic').textContent = room.topic;
  $('composer').hidden = !joined;
  $('join-bar').hidden = joined;
  $('leave-room').hidden = !joined;
  $('message-input').placeholder = `Message #${room.name}`;
  const items = feedOf(state, room.id);
  const empty = systemItem(joined ? 'No messages yet. Say hello!' : 'Join to read and post here.');
  empty.classList.add('empty');
  $('messages').replaceChildren(...(items.length ? items : [empty]));
  $('messages').lastElementChild?.scrollIntoView({ block: 'end' });
  renderTyping(state);
}

/** Members of the current room, online first, with a Kick button for the others. */
export function renderMembers(state, onKick) {
  const members = state.rooms.get(state.current)?.members ?? [];
  const status = (member) => state.status.get(member.id)?.status ?? member.status ?? 'offline';
  const order = { online: 0, away: 1, offline: 2 };
  const sorted = [...members].sort((a, b) => order[status(a)] - order[status(b)] || a.name.localeCompare(b.name));
  const me = state.session.user.id;
  $('member-list').replaceChildren(...sorted.map((member) => memberItem(member, { me, status: status(member), onKick })));
  const online = members.filter((member) => status(member) !== 'offline').length;
  $('member-count').textContent = `${online} online · ${members.length}`;
  $('panel-toggle-count').textContent = `${online}/${members.length}`;
}

/** "Grace is typing…" for the current room, while the last TYPING is fresh. */
export function renderTyping(state) {
  const typers = state.typing.get(state.current) ?? new Map();
  const names = [...typers.values()].filter((typer) => typer.until > Date.now()).map((typer) => typer.name);
  $('typing').textContent = names.length === 0 ? '' : `${names.join(' and ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
}
