import { Message, MesaDispatchError, MesaValidationError, RecordingDispatcher } from '../../../lib/index.js';

describe('RecordingDispatcher.broadcast(message, { excluding })', () => {
  it('records a broadcast to the simulated online ids minus the excluded, never stored', async () => {
    const mesa = new RecordingDispatcher({ sync: { enabled: true }, online: ['a', 'b', 'c'], receivers: 2 });

    const result = await mesa.broadcast(new Message(0, { n: 1 }, 'EXCEPT'), { excluding: ['b', 'b', 'z'] });

    expect(result).toEqual({ recipients: ['a', 'c'], publishedTo: ['a', 'c'], storedFor: [], receivers: 2 });
    expect(mesa.lastDispatch('EXCEPT')).toMatchObject({ broadcast: false, recipients: ['a', 'c'], excluding: ['b', 'z'], storedFor: [] });
    expect(mesa.storedFor('b')).toEqual([]);
  });

  it('with nobody online reaches nobody; without options it is the plain broadcast', async () => {
    const mesa = new RecordingDispatcher({ receivers: 1 });

    expect(await mesa.broadcast(new Message(0, {}, 'NONE'), { excluding: [] })).toEqual({
      recipients: [],
      publishedTo: [],
      storedFor: [],
      receivers: 0,
    });
    expect(await mesa.broadcast(new Message(0, {}, 'ALL'))).toEqual({ recipients: ['*'], publishedTo: ['*'], storedFor: [], receivers: 1 });
    expect(mesa.lastDispatch('ALL')?.excluding).toBeUndefined();
  });

  it('validates as the real service does, and honours failNextDispatch', async () => {
    const mesa = new RecordingDispatcher({ online: ['a'] });
    for (const options of [{ excluding: ['*'] }, { excluding: [' '] }, { excluding: 'a' }, {}]) {
      await expect(mesa.broadcast(new Message(0, {}, 'BAD'), options as never)).rejects.toThrow(MesaValidationError);
    }
    mesa.failNextDispatch();
    await expect(mesa.broadcast(new Message(0, {}, 'LOST'), { excluding: [] })).rejects.toThrow(MesaDispatchError);
    expect(mesa.dispatched()).toEqual([]);
  });
});
