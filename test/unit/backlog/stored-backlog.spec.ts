import fc from 'fast-check';
import { redeliveredMessages, storedCount } from '../../../lib/backlog/redelivered-messages.js';
import { mesaReadable, StoredBacklog, storedJson, storedWeight, TAIL_RESERVE } from '../../../lib/backlog/stored-backlog.js';

/** What Mesa's server redelivers from a stored text: JSON.parse, then Message(op, d, t) of each element (null throws). */
function mesaRedelivers(text: string): unknown[] | undefined {
  try {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) && !parsed.includes(null) ? parsed.map((m) => ({ op: m?.op, d: m?.d, t: m?.t })) : undefined;
  } catch {
    return undefined;
  }
}

/** One step: append message `n` (its size, its expiry relative to now) or let `advance` ms pass. */
const step = fc.oneof(
  fc.record({ n: fc.nat(999), pad: fc.string({ maxLength: 40 }), ttl: fc.option(fc.integer({ min: 1, max: 50 })) }),
  fc.record({ advance: fc.integer({ min: 1, max: 60 }) }),
);

describe('StoredBacklog: the script’s cap and expiry rule in TypeScript', () => {
  it('keeps what a plain model keeps (expired messages go first, then the oldest over the caps), and its text reloads to the same', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(0, 300, 900),
        (steps, maxCount, maxBytes) => {
          const caps = { maxCount, maxBytes };
          let now = 1_000_000_000_000;
          let text: string | undefined;
          let model: Array<{ json: string; expires?: number; weight: number }> = [];
          for (const s of steps) {
            if ('advance' in s) {
              now += s.advance;
              continue;
            }
            const json = JSON.stringify({ op: 0, d: { n: s.n, pad: s.pad }, t: 'T' });
            const expires = s.ttl === null ? undefined : now + s.ttl;
            const backlog = StoredBacklog.load(text, caps)!;
            backlog.removeExpired(now);
            const dropped = backlog.append(json, expires);
            const live = model.filter((m) => m.expires === undefined || m.expires > now);
            expect(backlog.expired).toBe(model.length - live.length);
            live.push({ json, expires, weight: storedWeight(storedJson(json, expires)) });
            let bytes = live.reduce((sum, m) => sum + m.weight, 1);
            let cut = 0;
            while (live.length > 0 && ((maxCount > 0 && live.length > maxCount) || (maxBytes > 0 && bytes + TAIL_RESERVE > maxBytes))) {
              bytes -= live.shift()!.weight;
              cut++;
            }
            expect(dropped).toBe(cut);
            model = live;
            text = backlog.text();
            expect(text === undefined ? [] : 'a text').toEqual(model.length === 0 ? [] : 'a text');
            if (text === undefined) continue;
            expect(mesaRedelivers(text)).toEqual(model.map((m) => ({ ...JSON.parse(m.json), d: JSON.parse(m.json).d })));
            expect(storedCount(Buffer.from(text))).toBe(model.length);
            expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes > 0 ? maxBytes : Number.POSITIVE_INFINITY);
            expect(StoredBacklog.load(text, caps)!.text()).toBe(text);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['[{"op":0},]', undefined],
    ['[{"op":0}, nope]', undefined],
    ['[NaN]', undefined],
    ['[{"op":0},null]', undefined],
    ['[{"op":0,"d":"a\tb"}]', undefined],
    ['[{"op":0},5]', 2],
    ['', 0],
    [' [ ] ', 0],
  ])('reads %j as Mesa does (count %s), in MesaBacklog and before an append', (text, count) => {
    expect(storedCount(Buffer.from(text))).toBe(count);
    expect(redeliveredMessages(Buffer.from(text))?.length).toBe(count);
    expect(StoredBacklog.load(text, { maxCount: 0, maxBytes: 0 }) === undefined).toBe(count === undefined);
    expect(mesaReadable(text)?.length).toBe(text === '' ? undefined : count);
  });
});
