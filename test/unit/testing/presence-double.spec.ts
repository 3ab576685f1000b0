import { resolveMesaOptions } from '../../../lib/options/resolved-mesa-options.js';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  MesaPresence,
  MesaPresenceDouble,
  type MesaRedisConnection,
  MesaTestingModule,
  MesaValidationError,
  RecordingDispatcher,
} from '../../../lib/index.js';

/** An application service that reads presence, as a user of the library would write it. */
@Injectable()
class RoomRoster {
  constructor(private readonly presence: MesaPresence) {}

  async whoIsHere(members: string[]): Promise<string[]> {
    return [...(await this.presence.online(members))];
  }
}

describe('MesaPresenceDouble (MesaTestingModule)', () => {
  let moduleRef: TestingModule;
  let mesa: RecordingDispatcher;
  let presence: MesaPresence;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
      providers: [RoomRoster],
    }).compile();
    mesa = moduleRef.get(RecordingDispatcher);
    presence = moduleRef.get(MesaPresence);
  });
  afterEach(() => moduleRef.close());

  it('is what MesaPresence injects, and answers from the dispatcher’s online ids', async () => {
    expect(presence).toBeInstanceOf(MesaPresenceDouble);
    expect(moduleRef.get(MesaPresenceDouble)).toBe(presence);
    expect(await moduleRef.get(RoomRoster).whoIsHere(['ada', 'bob'])).toEqual(['bob']);
    expect(await presence.isOnline('bob')).toBe(true);
    expect(await presence.count()).toBe(1);
    expect(await presence.sockets()).toBe(1);
  });

  it('follows setOnline, so presence and the simulated sync agree', async () => {
    mesa.setOnline(['ada', 'cy']);

    expect(await presence.online(['cy', 'bob', 'ada', 'cy'])).toEqual(new Set(['cy', 'ada']));
    const ids: string[] = [];
    for await (const id of presence.users({ count: 1 })) ids.push(id);
    expect(ids).toEqual(['ada', 'cy']);
    const double = moduleRef.get(MesaPresenceDouble);
    double.setSockets(5);
    expect(await presence.sockets()).toBe(5);
  });

  it('refuses exactly what MesaPresence refuses, with the same messages', async () => {
    const real = new MesaPresence(resolveMesaOptions({ url: 'redis://unused', namespace: 'x' }), {
      client: {} as Redis,
      target: 'unused',
    } as MesaRedisConnection);
    const attempts: Array<(p: MesaPresence) => Promise<unknown>> = [
      (p) => p.isOnline(''),
      (p) => p.isOnline(5 as never),
      (p) => p.isOnline('\uD800'),
      (p) => p.isOnline('*'),
      (p) => p.online('bob' as never),
      (p) => p.online(['bob', null as never]),
      async (p) => p.users({ count: 0 }),
    ];
    for (const attempt of attempts) {
      const expected = await attempt(real).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(expected).toBeInstanceOf(MesaValidationError);
      await expect(attempt(presence)).rejects.toThrow(new MesaValidationError(expected!.message));
    }
  });
});
