import { resolveMesaOptions } from '../../../lib/options/resolved-mesa-options.js';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  DispatcherService,
  Message,
  MesaBacklog,
  MesaBacklogDouble,
  type MesaRedisConnection,
  MesaTestingModule,
  MesaValidationError,
  RecordingDispatcher,
} from '../../../lib/index.js';

describe('MesaBacklogDouble (MesaTestingModule)', () => {
  let moduleRef: TestingModule;
  let mesa: RecordingDispatcher;
  let dispatcher: DispatcherService;
  let backlog: MesaBacklog;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
    }).compile();
    mesa = moduleRef.get(RecordingDispatcher);
    dispatcher = moduleRef.get(DispatcherService);
    backlog = moduleRef.get(MesaBacklog);
  });
  afterEach(() => moduleRef.close());

  it('is what MesaBacklog injects, and shows what the dispatcher stored for offline users, as Mesa sends it', async () => {
    await dispatcher.dispatch(new Message(0, { n: 1 }, 'NEW_MESSAGE'), ['ada', 'bob']);
    await dispatcher.dispatch(new Message(0, undefined, 'PING', { sync: true }), ['ada']);
    await dispatcher.dispatch(new Message(0, { typing: true }, 'TYPING', { sync: false }), ['ada']);

    expect(backlog).toBeInstanceOf(MesaBacklogDouble);
    expect(await backlog.count('ada')).toBe(2);
    expect(await backlog.count('bob')).toBe(0);
    expect(await backlog.peek('ada')).toEqual([
      { op: 0, d: { n: 1 }, t: 'NEW_MESSAGE', s: 1 },
      { op: 0, t: 'PING', s: 2 },
    ]);
    expect(Object.keys((await backlog.peek('ada'))[1])).toEqual(['op', 't', 's']); // no "o", no "d"
    expect(await backlog.peek('ada', 1)).toHaveLength(1);
  });

  it('clear() forgets them in the dispatcher too and says how many', async () => {
    await dispatcher.dispatch(new Message(0, { n: 1 }, 'NEW_MESSAGE'), ['ada', 'cy']);
    await dispatcher.dispatch(new Message(0, { n: 2 }, 'NEW_MESSAGE'), ['ada']);

    const users: string[] = [];
    for await (const id of backlog.users()) users.push(id);
    expect(users).toEqual(['ada', 'cy']);
    expect(await backlog.clear('ada')).toBe(2);
    expect(await backlog.clear('ada')).toBe(0);
    expect(mesa.storedFor('ada')).toEqual([]);
    const left: string[] = [];
    for await (const id of backlog.users()) left.push(id);
    expect(left).toEqual(['cy']);
  });

  it('refuses exactly what MesaBacklog refuses, with the same messages', async () => {
    const real = new MesaBacklog(resolveMesaOptions({ url: 'redis://unused' }), {
      client: {} as Redis,
      target: 'unused',
    } as MesaRedisConnection);
    const attempts: Array<(b: MesaBacklog) => Promise<unknown>> = [
      (b) => b.count(''),
      (b) => b.count(['a'] as never),
      (b) => b.peek('a', 0),
      (b) => b.peek('a', 2.5),
      (b) => b.peek('\uDBFF', 1),
      (b) => b.clear('*'),
      (b) => b.clear('  '),
      async (b) => b.users({ count: 20_000 }),
    ];
    for (const attempt of attempts) {
      const expected = await attempt(real).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(expected).toBeInstanceOf(MesaValidationError);
      await expect(attempt(backlog)).rejects.toThrow(new MesaValidationError(expected!.message));
    }
  });
});
