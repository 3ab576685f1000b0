import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  DispatchEvent,
  DispatcherService,
  getMesaRedisConnectionToken,
  Message,
  MesaModule,
  MesaRedisConnection,
  MesaValidationError,
  RecordingDispatcher,
} from '../../../lib/index.js';

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;
const ok = new Message(0, { fine: true }, 'OK');

type Attempt = (dispatcher: Pick<DispatcherService, 'dispatch' | 'broadcast' | 'disconnect'>) => Promise<unknown>;
const refused: Array<[string, Attempt]> = [
  ['a plain object instead of a Message', (d) => d.dispatch({ op: 0, d: {} } as never, ['u1'])],
  ['null instead of a Message', (d) => d.dispatch(null as never, ['u1'])],
  ['a fractional opcode', (d) => d.dispatch(new Message(0.5, {}, 'X'), ['u1'])],
  ['an empty type', (d) => d.dispatch(new Message(0, {}, ''), ['u1'])],
  ['an event without action', (d) => d.dispatch(new DispatchEvent(''), ['u1'])],
  ['BigInt data', (d) => d.dispatch(new Message(0, { n: 10n }, 'X'), ['u1'])],
  ['circular data', (d) => d.dispatch(new Message(0, circular, 'X'), ['u1'])],
  ['recipients as a string', (d) => d.dispatch(ok, 'u1' as never)],
  ['a numeric id', (d) => d.dispatch(ok, ['u1', 7 as never])],
  ['a blank id', (d) => d.dispatch(ok, ['  '])],
  ["'*' mixed with ids", (d) => d.dispatch(ok, ['u1', '*'])],
  ['excluding with the default broadcast', (d) => d.dispatch(ok, undefined, ['u1'])],
  ["'*' in excluding", (d) => d.dispatch(ok, ['u1'], ['*'])],
  ['a broadcast of a non-message', (d) => d.broadcast('hello' as never)],
  ['disconnect without ids', (d) => d.disconnect(undefined as never)],
  ['disconnect with a numeric id', (d) => d.disconnect([1 as never])],
  ['an empty idempotency key', (d) => d.dispatch(new Message(0, {}, 'X', { idempotencyKey: '' }), ['u1'])],
  ['an idempotency key of 257 characters', (d) => d.dispatch(new Message(0, {}, 'X', { idempotencyKey: 'k'.repeat(257) }), ['u1'])],
  ['a keyed broadcast with a numeric key', (d) => d.broadcast(new Message(0, {}, 'X', { idempotencyKey: 7 as never }), { excluding: [] })],
];

describe('RecordingDispatcher refuses exactly what DispatcherService refuses', () => {
  let moduleRef: TestingModule;
  let real: DispatcherService;
  let client: Redis;
  const mesa = new RecordingDispatcher({ sync: { enabled: true } });

  beforeAll(async () => {
    client = new Redis({ port: 1, lazyConnect: true });
    const connection = new MesaRedisConnection(client, false, 'redis://unused:1');
    moduleRef = await Test.createTestingModule({ imports: [MesaModule.forRoot({ url: 'redis://unused:1', sync: { enabled: true } })] })
      .overrideProvider(getMesaRedisConnectionToken())
      .useValue(connection)
      .compile();
    real = moduleRef.get(DispatcherService);
  });
  afterAll(async () => {
    await moduleRef.close();
    client.disconnect();
  });

  it.each(refused)('%s: same MesaValidationError, nothing recorded', async (_name, attempt) => {
    const [expected, actual] = await Promise.allSettled([attempt(real), attempt(mesa)]);

    expect(expected.status).toBe('rejected');
    expect(actual.status).toBe('rejected');
    const [realError, recordedError] = [(expected as PromiseRejectedResult).reason, (actual as PromiseRejectedResult).reason];
    expect(realError).toBeInstanceOf(MesaValidationError);
    expect(recordedError).toBeInstanceOf(MesaValidationError);
    expect(recordedError.message).toBe(realError.message);
    expect(mesa.dispatched()).toEqual([]);
  });

  it('the real service used here never needed Redis (the client stayed unconnected)', () => {
    expect(client.status).toBe('wait');
  });
});
