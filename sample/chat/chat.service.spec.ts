import { BadRequestException, ForbiddenException } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Message, MesaTestingModule, RecordingDispatcher } from 'nestjs-mesa';
import { ChatService } from './chat.service.js';
import { PresenceBook } from './presence-book.js';
import { PresenceService } from './presence.service.js';
import { RoomsService } from './rooms.service.js';

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
      providers: [ChatService, RoomsService, PresenceService, PresenceBook], // presence and backlog: MesaTestingModule's doubles
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
    mesa.expectDispatched('NEW_MESSAGE', { to: ['bob', 'cy'], publishedTo: ['bob'], storedFor: ['cy'], data: posted.message });
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
    expect(joined.room.members.filter((member) => member.online).map((member) => member.id)).toEqual(['bob']);
    const left = mesa.lastDispatch('ROOM_UPDATED')!;
    expect(left.recipients).toEqual(['ada', 'bob', 'dee']);
    expect(left.message.o).toEqual({ sync: false });
    expect(left.storedFor).toEqual([]);
    expect(mesa.storedFor('ada')).toEqual([]);
  });
});

describe('PresenceService (with MesaTestingModule’s presence and backlog doubles, no Redis)', () => {
  let moduleRef: TestingModule;
  let presence: PresenceService;
  let rooms: RoomsService;
  let mesa: RecordingDispatcher;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
      providers: [ChatService, RoomsService, PresenceService, PresenceBook],
    }).compile();
    presence = moduleRef.get(PresenceService);
    rooms = moduleRef.get(RoomsService);
    mesa = moduleRef.get(RecordingDispatcher);
  });
  afterEach(() => moduleRef.close());

  it('reports who of the members is online (Mesa’s set or counted sockets) and what waits for the others', async () => {
    rooms.join('general', { id: 'ada', name: 'Ada' });
    rooms.join('random', { id: 'bob', name: 'Bob' });
    await moduleRef.get(ChatService).post('random', { id: 'bob', name: 'Bob' }, 'anyone?');
    expect(await presence.snapshot()).toEqual({
      states: new Map([
        ['ada', 'offline'],
        ['bob', 'online'],
      ]),
      version: 0,
    });
    moduleRef.get(PresenceBook).socketOpened('ada'); // Mesa's set lost her when another socket closed: the count still has her
    mesa.setOnline([]);
    expect(await presence.snapshot()).toEqual({
      states: new Map([
        ['ada', 'online'],
        ['bob', 'offline'],
      ]),
      version: 1,
    });
    expect(await presence.pendingFor('ada')).toBe(0);

    rooms.join('random', { id: 'ada', name: 'Ada' });
    await moduleRef.get(ChatService).post('random', { id: 'bob', name: 'Bob' }, 'hi ada');
    expect(await presence.pendingFor('ada')).toBe(1);
  });

  it('drops what a previous run stored for a user only on their first sign-in of this run', async () => {
    mesa.setOnline([]);
    await mesa.dispatch(new Message(0, { text: 'from a previous run' }, 'NEW_MESSAGE'), ['cy']);
    expect(await presence.arrive('cy')).toBe(1);
    expect(mesa.storedFor('cy')).toEqual([]);

    rooms.join('general', { id: 'cy', name: 'Cy' });
    await mesa.dispatch(new Message(0, { text: 'while away' }, 'NEW_MESSAGE'), ['cy']);
    expect(await presence.arrive('cy')).toBe(0);
    expect(await presence.pendingFor('cy')).toBe(1);
  });
});
