import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  Dispatch,
  DispatchEvent,
  DispatcherService,
  Message,
  MesaTestingModule,
  MesaValidationError,
  RecordingDispatcher,
} from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { useMesaStack } from '../support/mesa-stack.js';
import { MesaUser } from '../support/mesa-user.js';

/** Two different ids that UTF-8 turns into the same `'x\uFFFD'`. */
const HIGH = 'x\uD800';
const LOW = 'x\uDC00';
const NOT_WELL_FORMED = /is not well-formed Unicode \(it holds a lone surrogate/;
const note = new Message(0, { text: 'for one user only' }, 'NOTE');

@Injectable()
class NotesService {
  @Dispatch('NOTE', { recipients: (_r: unknown, to: string[]) => to })
  plain(_to: string[]): string {
    return 'sent';
  }

  @Dispatch('NOTE', { recipients: () => ['ann'], excluding: (_r: unknown, skip: string[]) => skip })
  async later(_skip: string[]): Promise<string> {
    return 'sent';
  }
}

type Attempt = (dispatcher: Pick<DispatcherService, 'dispatch' | 'broadcast' | 'disconnect'>) => Promise<unknown>;
const EVERY_PATH: Array<[string, Attempt]> = [
  ['dispatch recipients', (d) => d.dispatch(note, ['ann', HIGH])],
  ['dispatch excluding', (d) => d.dispatch(note, ['ann'], [LOW])],
  ['broadcast { excluding }', (d) => d.broadcast(note, { excluding: [HIGH] })],
  ['disconnect recipients', (d) => d.disconnect([LOW])],
  ['disconnect excluding', (d) => d.disconnect(['ann'], [HIGH])],
  ['the message type', (d) => d.dispatch(new Message(0, {}, 'NOTE\uD800'), ['ann'])],
  ['a DispatchEvent action', (d) => d.dispatch(new DispatchEvent('DISCONNECT\uDFFF'), ['ann'])],
];

describe('ids that cannot survive UTF-8 are refused everywhere (real Redis, sync on, real Mesa)', () => {
  const stack = useMesaStack({ replicas: 1, sync: true, providers: [NotesService] });
  /** Publishes a marker and waits for it: whatever was published before it has arrived by then. */
  const publishedBeforeFence = async () => {
    await stack.dispatcher.dispatch(new Message(0, {}, 'FENCE'), ['*']);
    const envelopes = await stack.spy.waitFor((seen) => seen.some((envelope) => envelope.message.t === 'FENCE'), 5_000, 'the fence');
    return envelopes.filter((envelope) => envelope.message.t !== 'FENCE');
  };

  it('two lone-surrogate ids in one tick: both rejected, nothing stored, nothing published', async () => {
    const results = await Promise.allSettled([stack.dispatcher.dispatch(note, [HIGH]), stack.dispatcher.dispatch(note, [LOW])]);

    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    for (const result of results) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(MesaValidationError);
      expect((result as PromiseRejectedResult).reason.message).toMatch(/recipients\[0\] is not well-formed Unicode/);
    }
    expect(await stack.db.hgetall('undelivered_messages')).toEqual({});
    expect(await publishedBeforeFence()).toEqual([]);
  });

  it.each(EVERY_PATH)('%s with a lone surrogate: MesaValidationError, nothing published', async (_path, attempt) => {
    await expect(attempt(stack.dispatcher)).rejects.toThrow(NOT_WELL_FORMED);
    expect(await stack.db.hgetall('undelivered_messages')).toEqual({});
    expect(await publishedBeforeFence()).toEqual([]);
  });

  it('@Dispatch selector results with a lone surrogate fail the call (plain: thrown, async: rejected)', async () => {
    const notes = stack.moduleRef.get(NotesService);

    expect(() => notes.plain(['ann', LOW])).toThrow(/NotesService\.plain: recipients\[1\] is not well-formed Unicode/);
    await expect(notes.later([HIGH])).rejects.toThrow(/NotesService\.later: excluding\[0\] is not well-formed Unicode/);
    expect(await stack.db.hgetall('undelivered_messages')).toEqual({});
    expect(await publishedBeforeFence()).toEqual([]);
  });

  it('well-formed ids outside the BMP (surrogate pairs) are kept apart, each stored under its own field', async () => {
    const [smile, party] = ['u\u{1F600}', 'u\u{1F389}'];
    const result = await stack.dispatcher.dispatch(note, [smile, party]);

    expect(result.storedFor.sort()).toEqual([smile, party].sort());
    expect(Object.keys(await stack.db.hgetall('undelivered_messages')).sort()).toEqual([smile, party].sort());
    await stack.db.del('undelivered_messages');
  });

  it('data with lone surrogates is safe: JSON escapes them, the online and the synced user receive them intact', async () => {
    const data = { text: 'a\uD800b', tail: '\uDC00', pair: '\u{1F600}' };
    const online = await MesaUser.connect(stack.mesa.url(0), 'dana');
    await eventually(async () => (await stack.db.sismember('connected_clients', 'dana')) === 1, 5_000, 'dana online');

    const result = await stack.dispatcher.dispatch(new Message(0, data, 'LONE'), ['dana', 'olga']);
    expect(result).toMatchObject({ publishedTo: ['dana'], storedFor: ['olga'] });
    await online.waitFor((u) => u.of('LONE').length === 1);
    expect(online.of('LONE')[0].d).toEqual(data);
    const stored = await stack.db.hget('undelivered_messages', 'olga');
    expect(stored).toContain('"a\\ud800b"');
    expect(JSON.parse(stored!)[0].d).toEqual(data);

    const synced = await MesaUser.connect(stack.mesa.url(0), 'olga');
    await synced.waitFor((u) => u.of('LONE').length === 1);
    expect(synced.of('LONE')[0]).toMatchObject({ op: 0, d: data, s: 1 });
    online.close();
    synced.close();
  });
});

describe('the testing double refuses lone-surrogate ids as the real service does', () => {
  let moduleRef: TestingModule;
  let recording: RecordingDispatcher;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MesaTestingModule.forRoot({ sync: { enabled: true } })],
      providers: [NotesService],
    }).compile();
    recording = moduleRef.get(RecordingDispatcher);
  });
  afterAll(() => moduleRef.close());

  it.each(EVERY_PATH)('%s: the same MesaValidationError, nothing recorded', async (_path, attempt) => {
    await expect(attempt(recording)).rejects.toThrow(NOT_WELL_FORMED);
    recording.expectNothingDispatched();
  });

  it('two lone-surrogate ids: both rejected, nothing stored; @Dispatch through the double fails the same way', async () => {
    const results = await Promise.allSettled([recording.dispatch(note, [HIGH]), recording.dispatch(note, [LOW])]);
    const notes = moduleRef.get(NotesService);

    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(recording.storedFor('x\uFFFD')).toEqual([]);
    expect(() => notes.plain([HIGH])).toThrow(/NotesService\.plain: recipients\[0\] is not well-formed Unicode/);
    await expect(notes.later([LOW])).rejects.toThrow(/NotesService\.later: excluding\[0\] is not well-formed Unicode/);
    recording.expectNothingDispatched();
  });
});
