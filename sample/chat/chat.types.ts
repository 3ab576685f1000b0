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

/** A member of a room, with whether Mesa has an authenticated socket for them. */
export interface MemberView extends SessionUser {
  online: boolean;
}

/** A room as the page shows it (`GET /api/rooms`, `ROOM_UPDATED`). */
export interface RoomView {
  id: string;
  name: string;
  topic: string;
  members: MemberView[];
}

/** What `ChatService.join`/`leave` return: the room and whom `@Dispatch` tells about the change. */
export interface RoomChange {
  room: RoomView;
  /** Members to notify (everyone in the room now). */
  notify: string[];
  /** Who joined or left; they get the change in the HTTP response instead. */
  actor: string;
}

/** Presence states a page reports through `POST /api/presence`. */
export const PRESENCE_STATES = ['online', 'away', 'offline'] as const;

/** One of {@link PRESENCE_STATES}. */
export type PresenceState = (typeof PRESENCE_STATES)[number];
