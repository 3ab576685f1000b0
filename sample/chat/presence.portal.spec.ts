import { jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { MesaTestingModule, RecordingDispatcher } from 'nestjs-mesa';
import { PresenceBook } from './presence-book.js';
import { PROBE_WINDOW_MS, PresencePortal } from './presence.portal.js';
import { RoomsService } from './rooms.service.js';

describe('PresencePortal (Mesa’s socket events, with the recording dispatcher)', () => {
  let moduleRef: TestingModule;
  let portal: PresencePortal;
  let mesa: RecordingDispatcher;
  const ada = { id: 'ada', name: 'Ada' };
  const frame = (clientId: string | undefined, data: unknown) => ({ clientId, op: 0, data, type: 'VISIBILITY' });

  beforeEach(async () => {
    jest.useFakeTimers();
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['ada', 'bob'] })],
      providers: [PresencePortal, PresenceBook, RoomsService],
    }).compile();
    portal = moduleRef.get(PresencePortal);
    mesa = moduleRef.get(RecordingDispatcher);
    const rooms = moduleRef.get(RoomsService);
    rooms.join('general', ada);
    rooms.join('general', { id: 'bob', name: 'Bob' });
    rooms.join('random', { id: 'cy', name: 'Cy' });
  });
  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  it('tells the user and their roommates of each change, live only; a second socket changes nothing', () => {
    portal.authenticated('ada');
    portal.authenticated('ada');
    mesa.expectDispatched('PRESENCE', {
      to: ['ada', 'bob'],
      message: { op: 0, d: { user: ada, status: 'online', version: 1 }, t: 'PRESENCE', o: { sync: false } },
      storedFor: [],
    });
    expect(mesa.dispatched('PRESENCE')).toHaveLength(1);
  });

  it('closing one of two tabs asks the other (PRESENCE_PROBE); the silent tab is forgotten after the window', () => {
    portal.authenticated('ada');
    portal.authenticated('ada');
    portal.visibility(frame('ada', { tab: 'aaaa0001', hidden: false }));
    portal.visibility(frame('ada', { tab: 'aaaa0002', hidden: true }));
    portal.disconnected('ada'); // the visible one
    mesa.expectDispatched('PRESENCE_PROBE', { to: ['ada'], data: {}, message: (m) => m.o?.sync === false });
    portal.visibility(frame('ada', { tab: 'aaaa0002', hidden: true })); // the hidden tab answers
    expect(mesa.dispatched('PRESENCE').map((r) => (r.message.d as { status: string }).status)).toEqual(['online']);
    jest.advanceTimersByTime(PROBE_WINDOW_MS);
    mesa.expectDispatched('PRESENCE', { data: { user: ada, status: 'away', version: 2 } });
    portal.disconnected('ada');
    mesa.expectDispatched('PRESENCE', { data: { user: ada, status: 'offline', version: 3 } });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ignores sockets that never authenticated, and refuses VISIBILITY without an id or of the wrong shape', () => {
    portal.disconnected(undefined);
    expect(() => portal.visibility(frame(undefined, { tab: 'aaaa0001', hidden: true }))).toThrow(
      'VISIBILITY from a socket that has not authenticated.',
    );
    for (const data of [null, { tab: 'x', hidden: true }, { tab: 'aaaa0001', hidden: 'yes' }, { tab: 'a'.repeat(65), hidden: true }]) {
      expect(() => portal.visibility(frame('ada', data))).toThrow(
        'VISIBILITY needs data { tab: hex string of 8 to 64 characters, hidden: boolean }.',
      );
    }
    mesa.expectNothingDispatched();
  });
});
