/** A signed-in user: `id` is what Mesa knows the socket by, `name` what people see. */
export interface SessionUser {
  id: string;
  name: string;
}

/** A chat message, as the API returns it and as `NEW_MESSAGE` carries it (`d`). */
export interface ChatMessage {
  id: string;
  room: string;
  author: SessionUser;
  text: string;
  /** ISO 8601 time the API accepted it. */
  sentAt: string;
}

/** What `ChatService.post` returns: the message and whom `@Dispatch` sends it to. */
export interface PostedMessage {
  message: ChatMessage;
  /** The room's member ids when it was posted (the author is excluded by the decorator). */
  members: string[];
}

/** A member of a room, with their presence (see `PresenceBook`). */
export interface MemberView extends SessionUser {
  /** Whether they have an authenticated socket on some Mesa replica (`status` is not `offline`). */
  online: boolean;
  status: PresenceState;
}

/** A room as the page shows it (`GET /api/rooms`, `ROOM_UPDATED`). */
export interface RoomView {
  id: string;
  name: string;
  topic: string;
  members: MemberView[];
  /** The presence change number the members' states were read at (a page ignores older `PRESENCE` pushes). */
  presenceVersion: number;
}

/** What `ChatService.join`/`leave` return: the room and whom `@Dispatch` tells about the change. */
export interface RoomChange {
  room: RoomView;
  /** Members to notify (everyone in the room now). */
  notify: string[];
  /** Who joined or left; they get the change in the HTTP response instead. */
  actor: string;
}

/** A user's presence: `online` and `away` have a socket open (`away`: every open tab is hidden); `offline` has none. */
export type PresenceState = 'online' | 'away' | 'offline';

/** Data of `PRESENCE`: a user's new state, and its change number (newer numbers win on the page). */
export interface PresenceNotice {
  user: SessionUser;
  status: PresenceState;
  version: number;
}
