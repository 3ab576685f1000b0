import { Injectable } from '@nestjs/common';
import type { PresenceState } from './chat.types.js';

/** Most tabs of one user whose visibility is kept (a client sending more tab ids is not believed beyond this). */
export const MAX_TABS_PER_USER = 16;

/** What the book knows of one user. */
interface UserPresence {
  /** Sockets authenticated minus sockets closed, from Mesa's Portal events (signed: events handled out of order still add up). */
  sockets: number;
  /** Tab id → hidden, as the user's open tabs said over their sockets. */
  tabs: Map<string, boolean>;
  /** While a probe runs: the tabs that answered it (or said hello since); the others are dropped when it ends. */
  confirmed?: Set<string>;
}

/**
 * Who is connected, from what Mesa says: each authenticated socket and each socket closing, counted per user
 * (Mesa's own `connected_clients` drops a user when any one of their sockets closes, so it cannot tell that
 * a second tab is still open). Whether a connected user is `away` is what their tabs report; it never makes
 * anyone connected. Plain data: `PresencePortal` feeds it, `PresenceService` reads it.
 */
@Injectable()
export class PresenceBook {
  private readonly users = new Map<string, UserPresence>();
  /** Increases with every change of anyone's state; pages keep the newest state they saw per user. */
  private changes = 0;

  /** The current change number (a page that read states at this number ignores older `PRESENCE` pushes). */
  get version(): number {
    return this.changes;
  }

  /** `id`'s state. `inConnectedClients`: Mesa's set has the id (an authenticated socket is open, even if no event reached us). */
  state(id: string, inConnectedClients = false): PresenceState {
    const user = this.users.get(id);
    const sockets = user?.sockets ?? 0;
    if (sockets <= 0 && !inConnectedClients) return 'offline';
    const tabs = [...(user?.tabs.values() ?? [])];
    return tabs.length > 0 && tabs.length >= sockets && tabs.every((hidden) => hidden) ? 'away' : 'online';
  }

  /** A socket of `id` authenticated. Returns the state change, if any. */
  socketOpened(id: string): PresenceChange | undefined {
    return this.change(id, (user) => user.sockets++);
  }

  /**
   * A socket of `id` closed. When none is left, its tabs are forgotten; otherwise which tab closed is unknown,
   * and the caller asks the others (see {@link startProbe}).
   */
  socketClosed(id: string): PresenceChange | undefined {
    return this.change(id, (user) => {
      user.sockets--;
      if (user.sockets <= 0) {
        user.tabs.clear();
        user.confirmed = undefined;
      }
    });
  }

  /** Remaining sockets of `id` by the count (may be below 1 when events were lost). */
  sockets(id: string): number {
    return this.users.get(id)?.sockets ?? 0;
  }

  /** A tab of `id` said whether it is hidden (on connecting, on a visibility change, or answering a probe). */
  tabReported(id: string, tab: string, hidden: boolean): PresenceChange | undefined {
    return this.change(id, (user) => {
      if (!user.tabs.has(tab) && user.tabs.size >= MAX_TABS_PER_USER) return;
      user.tabs.set(tab, hidden);
      user.confirmed?.add(tab);
    });
  }

  /** Starts collecting which tabs of `id` are still there (their answers to a probe); a probe already running starts over. */
  startProbe(id: string): void {
    const user = this.users.get(id);
    if (user) user.confirmed = new Set();
  }

  /** Ends the probe: tabs that did not answer are forgotten. Returns the state change, if any. */
  endProbe(id: string): PresenceChange | undefined {
    return this.change(id, (user) => {
      const confirmed = user.confirmed;
      user.confirmed = undefined;
      if (confirmed) for (const tab of user.tabs.keys()) if (!confirmed.has(tab)) user.tabs.delete(tab);
    });
  }

  private change(id: string, update: (user: UserPresence) => void): PresenceChange | undefined {
    const before = this.state(id);
    let user = this.users.get(id);
    if (!user) this.users.set(id, (user = { sockets: 0, tabs: new Map() }));
    update(user);
    if (user.sockets === 0 && user.tabs.size === 0 && !user.confirmed) this.users.delete(id);
    const after = this.state(id);
    return before === after ? undefined : { id, state: after, version: ++this.changes };
  }
}

/** A user's state changed: `version` orders it among all changes. */
export interface PresenceChange {
  id: string;
  state: PresenceState;
  version: number;
}
