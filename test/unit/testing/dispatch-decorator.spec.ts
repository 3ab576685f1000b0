import { Injectable, Scope } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  Dispatch,
  DispatcherService,
  getMesaRedisConnectionToken,
  MesaDispatchError,
  MesaModule,
  MesaRedisConnection,
  MesaTestingModule,
  MesaValidationError,
  RecordingDispatcher,
} from '../../../lib/index.js';

interface Posted {
  room: string;
  author: string;
  text: string;
}
const MEMBERS = ['ada', 'bob', 'cy'];

@Injectable()
class RoomService {
  constructor(readonly dispatcher: DispatcherService) {}

  @Dispatch<Posted>('NEW_MESSAGE', { recipients: () => MEMBERS, excluding: (posted) => [posted.author] })
  async post(room: string, author: string, text: string): Promise<Posted> {
    return { room, author, text };
  }

  @Dispatch('SCORE', { recipients: (_score: number, user: string) => [user], data: (score: number) => ({ score }), onError: 'log' })
  score(user: string): number {
    return user.length;
  }

  @Dispatch('EVIL', { recipients: (_r: unknown, to: string[]) => to })
  evil(to: string[]): Promise<string> {
    return Promise.resolve('done');
  }
}

@Injectable({ scope: Scope.REQUEST })
class ScopedService {
  @Dispatch('SCOPED', { recipients: (_r: unknown, to: string) => [to], sync: false })
  async ping(to: string): Promise<{ pong: true }> {
    return { pong: true };
  }
}

describe('@Dispatch with MesaTestingModule', () => {
  let moduleRef: TestingModule;
  let mesa: RecordingDispatcher;
  let rooms: RoomService;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
      providers: [RoomService, ScopedService],
    }).compile();
    mesa = moduleRef.get(RecordingDispatcher);
    rooms = moduleRef.get(RoomService);
  });
  beforeEach(() => mesa.clear());
  afterAll(() => moduleRef.close());

  it('injects the recording dispatcher under the DispatcherService token', () => {
    expect(moduleRef.get(DispatcherService)).toBe(mesa);
    expect(rooms.dispatcher).toBe(mesa);
  });

  it('records what a decorated provider method dispatches, with sync simulated', async () => {
    await expect(rooms.post('lobby', 'ada', 'hi')).resolves.toEqual({ room: 'lobby', author: 'ada', text: 'hi' });

    const record = mesa.expectDispatched('NEW_MESSAGE', { to: ['bob', 'cy'], data: { room: 'lobby', author: 'ada', text: 'hi' } });
    expect(record.result).toEqual({ recipients: ['bob', 'cy'], publishedTo: ['bob'], storedFor: ['cy'], receivers: 0 });
    expect(mesa.storedFor('cy')).toEqual([{ op: 0, d: { room: 'lobby', author: 'ada', text: 'hi' }, t: 'NEW_MESSAGE' }]);
  });

  it('records dispatches of plain-value methods (sent in the background) and of request-scoped providers', async () => {
    expect(rooms.score('dora')).toBe(4);
    const scoped = await moduleRef.resolve(ScopedService, ContextIdFactory.create());
    await scoped.ping('eve');

    mesa.expectDispatched('SCORE', { to: ['dora'], data: { score: 4 } });
    expect(mesa.lastDispatch('SCOPED')?.message).toEqual({ op: 0, d: { pong: true }, t: 'SCOPED', o: { sync: false } });
    expect(mesa.storedFor('eve')).toEqual([]);
  });

  it('fails the call with the real validation error for refused recipients, and records nothing', async () => {
    await expect(rooms.evil(['*'])).rejects.toThrow(`@Dispatch('EVIL') on RoomService.evil: the recipients function returned '*'`);
    await expect(rooms.evil([''])).rejects.toThrow(MesaValidationError);
    await expect(rooms.evil([''])).rejects.toThrow(/recipients\[0\] must be a non-empty string user id/);
    mesa.expectNothingDispatched();
  });

  it('surfaces a simulated Redis failure as the decorator would (throw by default)', async () => {
    mesa.failNextDispatch();
    await expect(rooms.post('lobby', 'ada', 'lost')).rejects.toThrow(MesaDispatchError);
    mesa.expectNothingDispatched();
  });
});

describe('RecordingDispatcher through overrideProvider(DispatcherService)', () => {
  it('replaces the real service of MesaModule.forRoot (with the connection token overridden too)', async () => {
    const mesa = new RecordingDispatcher();
    const client = new Redis({ port: 1, lazyConnect: true });
    const moduleRef = await Test.createTestingModule({
      imports: [MesaModule.forRoot({ url: 'redis://unused:1' })],
      providers: [RoomService],
    })
      .overrideProvider(DispatcherService)
      .useValue(mesa)
      .overrideProvider(getMesaRedisConnectionToken())
      .useValue(new MesaRedisConnection(client, false, 'redis://unused:1'))
      .compile();

    await moduleRef.get(RoomService).post('lobby', 'bob', 'yo');

    mesa.expectDispatched('NEW_MESSAGE', { to: ['ada', 'cy'] });
    await moduleRef.close();
    client.disconnect();
  });
});
