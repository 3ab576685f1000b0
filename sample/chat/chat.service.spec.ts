import { BadRequestException, ForbiddenException } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { MesaTestingModule, RecordingDispatcher } from 'nestjs-mesa';
import type { RoomView } from './chat.types.js';
import { ChatService } from './chat.service.js';
import { PresenceService } from './presence.service.js';
import { type Room, RoomsService } from './rooms.service.js';

/** PresenceService reads Mesa's online set from Redis; here everyone is shown offline. */
const offlinePresence = {
  view: async (room: Room): Promise<RoomView> => ({
    id: room.id,
    name: room.name,
    topic: room.topic,
    members: [...room.members.values()].map((user) => ({ ...user, online: false })),
  }),
};

describe('ChatService (with the recording dispatcher, no Redis)', () => {
  let moduleRef: TestingModule;
  let chat: ChatService;
  let rooms: RoomsService;
  let mesa: RecordingDispatcher;
  const ada = { id: 'ada', name: 'Ada' };
  const bob = { id: 'bob', name: 'Bob' };
  const cy = { id: 'cy', name: 'Cy' };

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
      providers: [ChatService, RoomsService, { provide: PresenceService, useValue: offlinePresence }],
    }).compile();
    chat = moduleRef.get(ChatService);
    rooms = moduleRef.get(RoomsService);
    mesa = moduleRef.get(RecordingDispatcher);
    for (const user of [ada, bob, cy]) rooms.join('general', user);
  });
  afterEach(() => moduleRef.close());

  it('post sends NEW_MESSAGE to the other members; offline ones get it stored for redelivery', async () => {
    const posted = await chat.post('general', ada, '  hello  ');

    expect(posted.message).toMatchObject({ room: 'general', author: ada, text: 'hello' });
    const record = mesa.expectDispatched('NEW_MESSAGE', { to: ['bob', 'cy'], data: posted.message });
    expect(record.publishedTo).toEqual(['bob']);
    expect(mesa.storedFor('cy')).toEqual([{ op: 0, d: { ...posted.message }, t: 'NEW_MESSAGE' }]);
    expect(mesa.storedFor('ada')).toEqual([]);
  });

  it('post refuses empty text and non-members, and dispatches nothing', async () => {
    await expect(chat.post('general', ada, '   ')).rejects.toThrow(BadRequestException);
    await expect(chat.post('random', ada, 'hi')).rejects.toThrow(ForbiddenException);
    mesa.expectNothingDispatched();
  });

  it('join and leave send ROOM_UPDATED to the others, never stored (sync: false)', async () => {
    const joined = await chat.join('general', { id: 'dee', name: 'Dee' });
    await chat.leave('general', 'cy');

    mesa.expectDispatched('ROOM_UPDATED', { to: ['ada', 'bob', 'cy'], data: joined.room });
    const left = mesa.lastDispatch('ROOM_UPDATED')!;
    expect(left.recipients).toEqual(['ada', 'bob', 'dee']);
    expect(left.message.o).toEqual({ sync: false });
    expect(left.storedFor).toEqual([]);
    expect(mesa.storedFor('ada')).toEqual([]);
  });
});
