import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  Dispatch,
  DispatcherService,
  Message,
  OnMesaAuthentication,
  OnMesaDisconnection,
  OnMesaMessage,
  type MesaClientMessage,
} from 'nestjs-mesa';
import type { PresenceNotice, SessionUser } from './chat.types.js';
import { PresenceBook, type PresenceChange } from './presence-book.js';
import { RoomsService } from './rooms.service.js';

/** How long the tabs of a user who closed one have to answer `PRESENCE_PROBE` before the silent ones are forgotten. */
export const PROBE_WINDOW_MS = 1_500;

/** A tab id as the page makes it (random hex); anything else is refused. */
const TAB_ID = /^[0-9a-f]{8,64}$/;

/** A change and who hears of it. */
interface Announcement {
  notice: PresenceNotice;
  recipients: string[];
}

/**
 * Presence from what Mesa knows, through its Portal (the Mesa servers run with `portal.enabled`): each socket that
 * authenticates and each that closes, counted per user in {@link PresenceBook}. Closing a tab needs nothing from
 * the page, so a tab that is closed, killed or cut off can never be counted as connected. A page only adds whether
 * it is hidden (`VISIBILITY` over its socket), which turns a connected user `away`, nothing more. When one of
 * several sockets of a user closes, Mesa does not say which: the user's tabs are asked (`PRESENCE_PROBE`) and those
 * that do not answer in {@link PROBE_WINDOW_MS} are forgotten. Changes go to the user and their roommates as
 * `PRESENCE`, live only.
 */
@Injectable()
export class PresencePortal implements OnModuleDestroy {
  private readonly logger = new Logger(PresencePortal.name);
  private readonly probes = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly book: PresenceBook,
    private readonly rooms: RoomsService,
    private readonly dispatcher: DispatcherService,
  ) {}

  /** A socket authenticated as `clientId` on some Mesa replica. */
  @OnMesaAuthentication()
  authenticated(clientId: string): void {
    this.announce(this.book.socketOpened(clientId));
  }

  /** A socket closed; `clientId` is absent for one that never authenticated (nobody's presence changes). */
  @OnMesaDisconnection()
  disconnected(clientId?: string): void {
    if (clientId === undefined) return;
    this.announce(this.book.socketClosed(clientId));
    if (this.book.sockets(clientId) > 0) return this.probe(clientId);
    clearTimeout(this.probes.get(clientId));
    this.probes.delete(clientId);
  }

  /**
   * A tab says whether it is hidden: `{"op":0,"t":"VISIBILITY","d":{"tab":"<hex>","hidden":true}}`. Who it is comes
   * from the socket's authentication, never from the frame.
   * @throws Error (logged by the portal, nothing changes) for an unauthenticated socket or a malformed frame.
   */
  @OnMesaMessage('VISIBILITY')
  visibility(frame: MesaClientMessage): void {
    if (frame.clientId === undefined) throw new Error('VISIBILITY from a socket that has not authenticated.');
    const { tab, hidden } = (frame.data ?? {}) as { tab?: unknown; hidden?: unknown };
    if (typeof tab !== 'string' || !TAB_ID.test(tab) || typeof hidden !== 'boolean') {
      throw new Error('VISIBILITY needs data { tab: hex string of 8 to 64 characters, hidden: boolean }.');
    }
    this.announce(this.book.tabReported(frame.clientId, tab, hidden));
  }

  onModuleDestroy(): void {
    this.probes.forEach((timer) => clearTimeout(timer));
    this.probes.clear();
  }

  /** `PRESENCE` to the user (their other tabs) and everyone who shares a room with them. */
  @Dispatch<Announcement>('PRESENCE', { recipients: (a) => a.recipients, data: (a) => a.notice, sync: false })
  protected tell(announcement: Announcement): Announcement {
    return announcement;
  }

  private announce(change: PresenceChange | undefined): void {
    if (!change) return;
    const notice: PresenceNotice = { user: this.userOf(change.id), status: change.state, version: change.version };
    this.tell({ notice, recipients: [change.id, ...this.rooms.roommatesOf(change.id)] });
  }

  private probe(id: string): void {
    clearTimeout(this.probes.get(id));
    this.book.startProbe(id);
    this.dispatcher
      .dispatch(new Message(0, {}, 'PRESENCE_PROBE', { sync: false }), [id])
      .catch((error: Error) => this.logger.warn(`PRESENCE_PROBE to ${id} failed: ${error.message}`));
    const timer = setTimeout(() => {
      this.probes.delete(id);
      this.announce(this.book.endProbe(id));
    }, PROBE_WINDOW_MS);
    timer.unref();
    this.probes.set(id, timer);
  }

  private userOf(id: string): SessionUser {
    for (const room of this.rooms.list()) {
      const member = room.members.get(id);
      if (member) return member;
    }
    return { id, name: id };
  }
}
