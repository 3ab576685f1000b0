// Rendering: small functions from data to DOM. Text always goes in through textContent (no HTML injection).

/** `h('li', { class: 'x', dataset: { id } }, child, 'text')` → an element. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A stable colour per user id. */
export function hue(id) {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) % 360;
  return hash;
}

/** A round avatar with the user's initial. */
export function avatar(user, size = '') {
  const element = h('span', { class: `avatar ${size}`.trim(), 'aria-hidden': 'true' }, (user.name || user.id).slice(0, 1).toUpperCase());
  element.style.setProperty('--hue', hue(user.id));
  return element;
}

/** `14:05`, in the reader's locale. */
export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * One message. `own`: the reader wrote it (shown from the HTTP response). `sequence`: Mesa redelivered
 * it after the reader was offline; the number is Mesa's `s`.
 */
export function messageItem(message, { own = false, sequence } = {}) {
  const classes = ['message', own && 'own', sequence && 'redelivered'].filter(Boolean).join(' ');
  return h(
    'li',
    { class: classes, dataset: { id: message.id, author: message.author.id, seq: sequence ?? '' } },
    avatar(message.author),
    h(
      'div',
      { class: 'message-body' },
      h(
        'div',
        { class: 'message-meta' },
        h('span', { class: 'author' }, own ? `${message.author.name} (you)` : message.author.name),
        h('time', { datetime: message.sentAt }, formatTime(message.sentAt)),
        sequence &&
          h(
            'span',
            { class: 'badge', title: 'Stored while you were offline; Mesa redelivered it with this sequence number' },
            `redelivered · s=${sequence}`,
          ),
      ),
      h('p', { class: 'text' }, message.text),
    ),
  );
}

/** A line such as "bob joined #random". */
export function systemItem(text) {
  return h('li', { class: 'system' }, text);
}

/** The room list: joined rooms first, unread counts, a Join button for the others. */
export function roomItem(room, { active, joined, unread, onSelect }) {
  return h(
    'li',
    { class: ['room', active && 'active', joined && 'joined'].filter(Boolean).join(' '), dataset: { room: room.id } },
    h(
      'button',
      { class: 'room-button', onclick: () => onSelect(room.id) },
      h('span', { class: 'hash' }, '#'),
      h('span', { class: 'room-name' }, room.name),
      unread > 0 && h('span', { class: 'unread' }, String(unread)),
      !joined && h('span', { class: 'join-hint' }, 'join'),
    ),
  );
}

/** A member with an online dot; a kick button for the others. */
export function memberItem(member, { me, status, onKick }) {
  return h(
    'li',
    { class: `member ${status}`, dataset: { user: member.id, online: String(status !== 'offline') } },
    h('span', { class: 'presence', title: status }),
    avatar(member, 'small'),
    h('span', { class: 'member-name' }, member.name, member.id === me && h('span', { class: 'you' }, ' (you)')),
    member.id !== me &&
      h(
        'button',
        { class: 'kick', title: `Remove ${member.name} from the room and close their socket`, onclick: () => onKick(member) },
        'Kick',
      ),
  );
}

/** One line of the wire log: direction, opcode, type, sequence and a peek at the data. */
export function wireItem(direction, frame) {
  const parts = [`op ${frame.op}`, frame.t, frame.s !== undefined && `s=${frame.s}`].filter(Boolean).join(' ');
  let data = frame.op === 2 ? '{"token":"…"}' : JSON.stringify(frame.d ?? {});
  if (data.length > 60) data = `${data.slice(0, 57)}…`;
  return h(
    'li',
    { class: `frame ${direction}`, dataset: { op: String(frame.op), type: frame.t ?? '' } },
    h('span', { class: 'arrow' }, direction === 'in' ? '←' : '→'),
    h('span', { class: 'op' }, parts),
    h('span', { class: 'data' }, data),
  );
}
