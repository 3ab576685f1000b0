import { Body, Controller, Injectable, type INestApplication, Post } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Observable } from 'rxjs';
import {
  Dispatch,
  DispatcherService,
  getMesaRedisConnectionToken,
  Message,
  MesaDispatchError,
  type MesaRedisConnection,
  MesaValidationError,
} from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaHttpApp, createMesaModule, eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';

/** What a request or a provider call hands over: `to` may be missing, or not an array. */
interface Note {
  text: string;
  to?: unknown;
  skip?: unknown;
}

@Controller('notes')
class NotesController {
  @Post('plain')
  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[] })
  plain(@Body() body: Note): Note {
    return body;
  }

  @Post('async')
  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[] })
  async later(@Body() body: Note): Promise<Note> {
    return body;
  }

  @Post('logged')
  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[], onError: 'log' })
  logged(@Body() body: Note): Promise<Note> {
    return Promise.resolve(body);
  }

  @Post('excluding')
  @Dispatch('NOTE', { recipients: () => ['ann', 'ben'], excluding: (note: Note) => note.skip as string[] })
  excluding(@Body() body: Note): Note {
    return body;
  }
}

@Injectable()
class NotesService {
  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[] })
  plain(note: Note): Note {
    return note;
  }

  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[], onError: 'log' })
  async later(note: Note): Promise<Note> {
    return note;
  }

  @Dispatch('NOTE', { recipients: () => ['ann'], excluding: (note: Note) => note.skip as string[] })
  async excluding(note: Note): Promise<Note> {
    return note;
  }

  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[], onError: 'log' })
  stream(notes: Note[]): Observable<Note> {
    return new Observable<Note>((subscriber) => {
      for (const note of notes) subscriber.next(note);
      subscriber.complete();
    });
  }

  @Dispatch('NOTE', { recipients: () => ['ann'], data: (note: Note) => ({ text: note.text.repeat(300) }) })
  big(note: Note): Note {
    return note;
  }
}

/** Results a recipients/excluding function may wrongly produce: none of them is an array of ids. */
const NOT_ID_ARRAYS: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['a string', 'ann'],
  ['a Set', new Set(['ann'])],
  ['an object', { 0: 'ann', length: 1 }],
];

describe('@Dispatch selectors: only an array of ids is accepted, and a refused message fails the call (real Redis)', () => {
  let redis: RedisServer;
  let app: INestApplication;
  let baseUrl: string;
  let spy: ChannelSpy;
  let notes: NotesService;
  let dispatcher: DispatcherService;
  const logger = new RecordingLogger();
  const post = (path: string, body: object) =>
    fetch(`${baseUrl}/notes/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** Publishes a marker and waits for it: whatever was published before it has arrived by then. */
  const publishedBeforeFence = async () => {
    await dispatcher.dispatch(new Message(0, {}, 'FENCE'), ['fence']);
    const envelopes = await spy.waitFor((seen) => seen.some((envelope) => envelope.message.t === 'FENCE'), 5_000, 'the fence');
    return envelopes.filter((envelope) => envelope.message.t !== 'FENCE');
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ app, baseUrl } = await createMesaHttpApp(
      { url: redis.url, maxPayloadBytes: 2_000 },
      { controllers: [NotesController], providers: [NotesService], logger },
    ));
    notes = app.get(NotesService);
    dispatcher = app.get(DispatcherService);
    spy = await ChannelSpy.listen(redis.url);
  });
  beforeEach(() => spy.clear());
  afterAll(async () => {
    await spy.close();
    await app.close();
    await redis.stop();
  });

  it('a route whose recipients function returns undefined answers 500 and publishes nothing (plain and async)', async () => {
    const plain = await post('plain', { text: 'hello' });
    const later = await post('async', { text: 'hello' });
    const logged = await post('logged', { text: 'hello' });

    expect([plain.status, later.status, logged.status]).toEqual([500, 500, 500]);
    expect(await publishedBeforeFence()).toEqual([]);
    expect(
      logger.errors(/@Dispatch\('NOTE'\) on NotesController\.(plain|later|logged): the recipients function returned undefined/),
    ).toHaveLength(3);
  });

  it('a route still dispatches when the recipients function returns ids', async () => {
    expect((await post('plain', { text: 'ok', to: ['ann'] })).status).toBe(201);
    expect((await post('async', { text: 'ok', to: ['ben'] })).status).toBe(201);

    const published = await publishedBeforeFence();
    expect(published.map((envelope) => envelope.recipients)).toEqual([['ann'], ['ben']]);
    expect(published[0].message).toEqual({ op: 0, d: { text: 'ok', to: ['ann'] }, t: 'NOTE' });
  });

  it('a route whose excluding function returns no array answers 500 and publishes nothing', async () => {
    expect((await post('excluding', { text: 'x' })).status).toBe(500);
    expect((await post('excluding', { text: 'x', skip: 'ann' })).status).toBe(500);
    expect((await post('excluding', { text: 'x', skip: [] })).status).toBe(201);

    expect((await publishedBeforeFence()).map((envelope) => envelope.recipients)).toEqual([['ann', 'ben']]);
  });

  it.each(NOT_ID_ARRAYS)('a provider method, plain value: recipients %s is thrown synchronously, nothing published', async (_name, to) => {
    let returned: unknown = 'not called';
    expect(() => (returned = notes.plain({ text: 'p', to }))).toThrow(MesaValidationError);
    expect(() => notes.plain({ text: 'p', to })).toThrow(
      /NotesService\.plain: the recipients function returned .*; it must return an array of user id strings/,
    );
    expect(returned).toBe('not called');
    expect(await publishedBeforeFence()).toEqual([]);
  });

  it.each(NOT_ID_ARRAYS)('a provider method, async (onError log): recipients %s rejects, nothing published', async (_name, to) => {
    await expect(notes.later({ text: 'a', to })).rejects.toThrow(MesaValidationError);
    await expect(notes.excluding({ text: 'a', skip: to })).rejects.toThrow(/NotesService\.excluding: the excluding function returned/);
    expect(await publishedBeforeFence()).toEqual([]);
  });

  it("'*' from a selector is refused in recipients and in excluding alike", async () => {
    expect(() => notes.plain({ text: 's', to: ['*'] })).toThrow(/the recipients function returned '\*'/);
    await expect(notes.excluding({ text: 's', skip: ['*'] })).rejects.toThrow(/excluding cannot contain '\*'/);
    expect(await publishedBeforeFence()).toEqual([]);
  });

  it('every validation error of the message fails a plain-value call synchronously: bad ids, too large', async () => {
    expect(() => notes.plain({ text: 'i', to: ['ann', ''] })).toThrow(/recipients\[1\] must be a non-empty string user id/);
    expect(() => notes.plain({ text: 'i', to: ['ann', 7] })).toThrow(/recipients\[1\] must be a non-empty string user id/);
    expect(() => notes.big({ text: 'too large!' })).toThrow(
      /NotesService\.big: Message is \d+ bytes of JSON, over maxPayloadBytes \(2000\)/,
    );
    expect(() => notes.big({ text: 'small' })).not.toThrow();

    expect((await publishedBeforeFence()).map((envelope) => envelope.recipients)).toEqual([['ann']]);
  });

  it('Observables: each value is checked when emitted; a refused one errors the stream after the valid ones', async () => {
    const seen: Note[] = [];
    const error = await new Promise<unknown>((resolve, reject) =>
      notes.stream([{ text: '1', to: ['ann'] }, { text: '2' }, { text: '3', to: ['ben'] }]).subscribe({
        next: (note) => seen.push(note),
        error: resolve,
        complete: () => reject(new Error('completed although a value had no recipients')),
      }),
    );

    expect(error).toBeInstanceOf(MesaValidationError);
    expect((error as Error).message).toMatch(/NotesService\.stream: the recipients function returned undefined/);
    const published = await publishedBeforeFence();
    expect(published.map((envelope) => envelope.message.d.text)).toEqual(['1']);
    expect(seen).toEqual([{ text: '1', to: ['ann'] }]);
  });
});

@Injectable()
class OutageService {
  @Dispatch('OUT', { recipients: () => ['ann'] })
  plain(): string {
    return 'plain';
  }

  @Dispatch('OUT', { recipients: () => ['ann'], onError: 'log' })
  async logged(): Promise<string> {
    return 'logged';
  }

  @Dispatch('OUT', { recipients: () => ['ann'] })
  async thrown(): Promise<string> {
    return 'thrown';
  }
}

describe("@Dispatch and Redis failures: 'log' applies to them, plain values leave them to the log", () => {
  let redis: RedisServer;
  let moduleRef: TestingModule;
  let outage: OutageService;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ moduleRef } = await createMesaModule(
      { url: redis.url, whenDisconnected: 'fail', dispatchTimeout: 2_000 },
      { providers: [OutageService], logger },
    ));
    outage = moduleRef.get(OutageService);
    await redis.stop();
  });
  afterAll(async () => {
    await redis.restart();
    const { client } = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken());
    await eventually(() => client.status === 'ready', 10_000, 'the reconnection');
    await moduleRef.close();
    await redis.stop();
  });

  it('plain value returned, failure logged; Promise: logged under onError log, rejected under throw', async () => {
    expect(outage.plain()).toBe('plain');
    await expect(outage.logged()).resolves.toBe('logged');
    await expect(outage.thrown()).rejects.toThrow(MesaDispatchError);

    await eventually(() => logger.errors(/OutageService\.plain/).length > 0, 5_000, 'the logged failure');
    expect(logger.errors(/@Dispatch\('OUT'\) on OutageService\.plain: /)).toHaveLength(1);
    expect(logger.errors(/@Dispatch\('OUT'\) on OutageService\.logged: /)).toHaveLength(1);
    expect(logger.errors(/OutageService\.thrown/)).toHaveLength(0);
  });
});
