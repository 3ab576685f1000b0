import { Message, MesaValidationError, RecordingDispatcher } from '../../../lib/index.js';

const note = (n: number, options?: { ttl?: number }) => new Message(0, { n }, 'NOTE', options);

describe('RecordingDispatcher: stored messages expire and are capped as MesaModule makes them', () => {
  it('expires stored copies on its clock, reports what an append removed, and answers storedFor without them', async () => {
    let now = 1_000;
    const mesa = new RecordingDispatcher({ sync: { enabled: true, ttl: 100 }, now: () => now });
    await mesa.dispatch(note(1), ['away']);
    await mesa.dispatch(note(2, { ttl: 10_000 }), ['away']);
    now += 150;
    expect(mesa.storedFor('away').map((m) => (m.d as { n: number }).n)).toEqual([2]);
    const result = await mesa.dispatch(note(3), ['away']);
    expect(result.expired).toEqual({ away: 1 });
    expect(mesa.storedFor('away').map((m) => (m.d as { n: number }).n)).toEqual([2, 3]);
  });

  it('refuses a message ttl without a sweep, as the real service does', async () => {
    const mesa = new RecordingDispatcher({ sync: { enabled: true } });
    await expect(mesa.dispatch(note(1, { ttl: 5 }), ['away'])).rejects.toThrow(MesaValidationError);
  });

  it('caps a backlog (default 1000 messages) and reports the drops; maxPayloadBytes applies as in the module', async () => {
    const mesa = new RecordingDispatcher({ sync: { enabled: true }, maxStoredPerUser: 2, maxPayloadBytes: 64 });
    await mesa.dispatch(note(1), ['away']);
    await mesa.dispatch(note(2), ['away']);
    expect((await mesa.dispatch(note(3), ['away'])).dropped).toEqual({ away: 1 });
    await expect(mesa.dispatch(new Message(0, 'x'.repeat(100), 'BIG'), ['away'])).rejects.toThrow(/over maxPayloadBytes \(64\)/);
    const byDefault = new RecordingDispatcher({ sync: { enabled: true } });
    for (let n = 0; n < 1_001; n++) await byDefault.dispatch(note(n), ['away']);
    expect(byDefault.storedFor('away')).toHaveLength(1_000);
  });
});
