import type { TestingModule } from '@nestjs/testing';
import { DispatchEvent, DispatcherService, Message, MesaValidationError } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RedisServer } from '../support/redis-server.js';

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;

describe('dispatch() refuses bad input with a clear error and publishes nothing', () => {
  let redis: RedisServer;
  let moduleRef: TestingModule;
  let dispatcher: DispatcherService;
  let spy: ChannelSpy;
  let db: ReturnType<RedisServer['client']>;

  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true }, maxPayloadBytes: 1_000 }));
    spy = await ChannelSpy.listen(redis.url);
    db = redis.client();
  });
  afterAll(async () => {
    db.disconnect();
    await spy.close();
    await moduleRef.close();
    await redis.stop();
  });

  const ok = new Message(0, { fine: true }, 'OK');
  it.each<[string, () => Promise<unknown>, RegExp]>([
    [
      'a plain object instead of a Message',
      () => dispatcher.dispatch({ op: 0, d: {} } as never, ['u1']),
      /expects a Message or a DispatchEvent/,
    ],
    ['null instead of a Message', () => dispatcher.dispatch(null as never, ['u1']), /expects a Message or a DispatchEvent.*got null/],
    ['a fractional opcode', () => dispatcher.dispatch(new Message(0.5, {}, 'X'), ['u1']), /opcode must be a non-negative integer/],
    ['an empty type', () => dispatcher.dispatch(new Message(0, {}, ''), ['u1']), /type must be a non-empty string/],
    ['an event without action', () => dispatcher.dispatch(new DispatchEvent(''), ['u1']), /action must be a non-empty string/],
    ['BigInt data', () => dispatcher.dispatch(new Message(0, { n: 10n }, 'X'), ['u1']), /cannot be sent as JSON.*BigInt/],
    ...(
      [
        ['an empty idempotency key', ''],
        ['a blank idempotency key', '  '],
        ['a numeric idempotency key', 42],
        ['an idempotency key of 257 characters', 'k'.repeat(257)],
      ] as Array<[string, unknown]>
    ).map(([what, key]): [string, () => Promise<unknown>, RegExp] => [
      what,
      () => dispatcher.dispatch(new Message(0, {}, 'X', { idempotencyKey: key as string }), ['u1']),
      /Message idempotencyKey option must be a non-empty string of at most 256 characters naming this one message, such as 'order-42:shipped'; got .*Hash a longer identity/,
    ]),
    [
      'an idempotency key with a lone surrogate',
      () => dispatcher.dispatch(new Message(0, {}, 'X', { idempotencyKey: 'order-\uD800' }), ['u1']),
      /Message idempotencyKey option is not well-formed Unicode/,
    ],
    ['circular data', () => dispatcher.dispatch(new Message(0, circular, 'X'), ['u1']), /cannot be sent as JSON.*circular/],
    [
      'recipients as a string',
      () => dispatcher.dispatch(ok, 'u1' as never),
      /recipients must be an array of user id strings.*got string "u1"/,
    ],
    [
      'a numeric id',
      () => dispatcher.dispatch(ok, ['u1', 7 as never]),
      /recipients\[1\] must be a non-empty string user id; got number.*String\(id\)/,
    ],
    [
      'an empty id',
      () => dispatcher.dispatch(ok, ['']),
      /^recipients\[0\] must be a non-empty string user id; got string "", which is empty and names nobody\. .*leave out users without one(?!.*String\(id\))/,
    ],
    [
      'a blank id',
      () => dispatcher.dispatch(ok, ['  ']),
      /^recipients\[0\] must be a non-empty string user id; got string " {2}", which holds only whitespace and names nobody\. .*trim ids(?!.*String\(id\))/,
    ],
    ['a null id', () => dispatcher.dispatch(ok, [null as never]), /recipients\[0\].*got null/],
    ["'*' mixed with ids", () => dispatcher.dispatch(ok, ['u1', '*']), /recipients mixes '\*' with user ids/],
    ['excluding with a broadcast', () => dispatcher.dispatch(ok, ['*'], ['u1']), /excluding cannot be applied to a broadcast/],
    [
      'excluding with the default broadcast',
      () => dispatcher.dispatch(ok, undefined, ['u1']),
      /excluding cannot be applied to a broadcast/,
    ],
    ["'*' in excluding", () => dispatcher.dispatch(ok, ['u1'], ['*']), /excluding cannot contain '\*'/],
    ['excluding as a string', () => dispatcher.dispatch(ok, ['u1'], 'u1' as never), /excluding must be an array/],
    ['a numeric excluded id', () => dispatcher.dispatch(ok, ['u1'], [1 as never]), /excluding\[0\] must be a non-empty string/],
    [
      'a message over maxPayloadBytes',
      () => dispatcher.dispatch(new Message(0, 'x'.repeat(1_000), 'BIG'), ['u1']),
      /Message is 1025 bytes of JSON, over maxPayloadBytes \(1000\)/,
    ],
    [
      'multi-byte text over maxPayloadBytes',
      () => dispatcher.dispatch(new Message(0, 'é'.repeat(490), 'BIG'), ['u1']),
      /Message is 1005 bytes of JSON, over maxPayloadBytes/,
    ],
    ['disconnect without ids', () => dispatcher.disconnect(undefined as never), /recipients must be an array of user id strings.*got null/],
  ])('%s', async (_name, attempt, message) => {
    const failure = attempt();
    await expect(failure).rejects.toBeInstanceOf(MesaValidationError);
    await expect(failure).rejects.toThrow(message);
  });

  it('none of the refused dispatches published or stored anything', async () => {
    await dispatcher.dispatch(new Message(0, 'é'.repeat(480), 'FITS'), ['*']);
    await dispatcher.dispatch(new Message(0, {}, 'MARK'), ['*']);
    expect(await spy.types()).toEqual(['FITS', 'MARK']);
    expect(await db.hlen('undelivered_messages')).toBe(0);
  });
});
