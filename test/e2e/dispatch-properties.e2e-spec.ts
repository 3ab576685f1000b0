import type { TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import { DispatcherService, Message, MesaValidationError } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RedisServer } from '../support/redis-server.js';

/** The rules, written independently of the implementation: what must be published, or null for an error. */
function expectedRecipients(recipients: unknown[] | undefined, excluding: unknown[] | undefined): string[] | null {
  const wanted = recipients ?? ['*'];
  const valid = (ids: unknown[]) => ids.every((id) => typeof id === 'string' && id.trim() !== '');
  if (!valid(wanted) || (excluding !== undefined && !valid(excluding))) return null;
  if (excluding?.includes('*')) return null;
  if (wanted.includes('*')) return wanted.every((id) => id === '*') && !excluding?.length ? ['*'] : null;
  return [...new Set(wanted as string[])].filter((id) => !excluding?.includes(id));
}

const id = fc.oneof(
  fc.constantFrom('alice', 'bob', 'carol', '*', '', '  ', 'ünï', 'a"b', 'x\\y'),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: 0, max: 3 }),
);
const payload = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.bigInt().map((n) => ({ n })),
);

describe('property: what is published is exactly what the rules say, or nothing', () => {
  let redis: RedisServer;
  let moduleRef: TestingModule;
  let dispatcher: DispatcherService;
  let spy: ChannelSpy;
  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ moduleRef, dispatcher } = await createMesaModule({ url: redis.url }));
    spy = await ChannelSpy.listen(redis.url);
  });
  afterAll(async () => {
    await spy.close();
    await moduleRef.close();
    await redis.stop();
  });

  it('random recipients, excluding lists and payloads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.array(id, { maxLength: 6 }), { nil: undefined }),
        fc.option(fc.array(id, { maxLength: 3 }), { nil: undefined }),
        payload,
        async (recipients, excluding, data) => {
          await spy.clear();
          const expected = expectedRecipients(recipients, excluding);
          const serializable = !JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? '__bigint__' : v)).includes('__bigint__');
          const outcome = await dispatcher
            .dispatch(new Message(0, data, 'PROP'), recipients as string[] | undefined, excluding as string[] | undefined)
            .then(
              (result) => ({ result }),
              (error: unknown) => ({ error }),
            );
          const seen = (await spy.received()).filter((e) => e.message.t === 'PROP');

          if (expected === null || !serializable) {
            expect((outcome as { error: unknown }).error).toBeInstanceOf(MesaValidationError);
            expect(seen).toEqual([]);
          } else if (expected.length === 0) {
            expect((outcome as { result: { recipients: string[] } }).result.recipients).toEqual([]);
            expect(seen).toEqual([]);
          } else {
            expect((outcome as { result: { recipients: string[] } }).result.recipients).toEqual(expected);
            expect(seen).toEqual([{ message: { op: 0, d: JSON.parse(JSON.stringify(data) ?? 'null'), t: 'PROP' }, recipients: expected }]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
