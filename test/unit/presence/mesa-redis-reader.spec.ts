import type { Redis } from 'ioredis';
import { MesaRedisError } from '../../../lib/index.js';
import { MesaRedisReader } from '../../../lib/presence/mesa-redis-reader.js';

// The e2e tests run the scans against real Redis; these pin down what a real server rarely shows on
// demand: SSCAN/HSCAN answering a member twice (while a table is resized), and a frozen server.
describe('MesaRedisReader', () => {
  const pages: Array<[string, string[]]> = [
    ['7', ['a', 'b', 'c']],
    ['3', ['c', 'd', 'a']],
    ['0', ['e', 'b']],
  ];

  it('yields each SSCAN member once when Redis returns some twice', async () => {
    let call = 0;
    const client = { sscan: async () => pages[call++] } as unknown as Redis;
    const seen: string[] = [];
    for await (const id of new MesaRedisReader(client, 'test', 1_000).setMembers('k', 10, 'SSCAN')) seen.push(id);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(call).toBe(3);
  });

  it('uses HSCAN NOVALUES where the server takes it, and yields each field once', async () => {
    let call = 0;
    const args: unknown[][] = [];
    const client = {
      hscan: async (...given: unknown[]) => (args.push(given), pages[call++]),
      hscanBuffer: async () => {
        throw new Error('not expected');
      },
    } as unknown as Redis;
    const seen: string[] = [];
    for await (const id of new MesaRedisReader(client, 'test', 1_000).hashFields('h', 50, 'HSCAN')) seen.push(id);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(args[0]).toEqual(['h', '0', 'COUNT', 50, 'NOVALUES']);
    expect(args[1]).toEqual(['h', '7', 'COUNT', 50, 'NOVALUES']);
  });

  it('fails a command Redis does not answer in time with a MesaRedisError saying so', async () => {
    const client = { sismember: () => new Promise(() => undefined) } as unknown as Redis;
    const reader = new MesaRedisReader(client, 'redis://frozen:6379', 50);
    const pending = reader.run('SISMEMBER', 'k', 'set', () => client.sismember('k', 'a'));
    await expect(pending).rejects.toBeInstanceOf(MesaRedisError);
    await expect(pending).rejects.toThrow(
      'Redis at redis://frozen:6379 did not answer SISMEMBER within 50 ms (frozen or unreachable). Retry later, or raise dispatchTimeout.',
    );
  });
});
