import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Observable } from 'rxjs';
import { Dispatch, Message, MesaTestingModule, MesaValidationError, RecordingDispatcher } from '../../lib/index.js';
import { checkRecipients, checkSelectedRecipients, prepareDispatch } from '../../lib/validation/dispatch-input.validator.js';
import { sealDispatch, SealedMessage } from '../../lib/validation/sealed-dispatch.js';

const seal = (data: unknown, to: readonly string[], limit = 10_000, excluding?: readonly string[]) =>
  sealDispatch('T', data, { ttl: 60_000 }, checkSelectedRecipients(to), to, excluding, limit);

describe('SealedMessage: what @Dispatch prepared once, published as prepared', () => {
  it('is a Message with the fields new Message(0, data, type, options) has', () => {
    const message = seal({ a: 1 }, ['u']);
    const plain = new Message(0, { a: 1 }, 'T', { ttl: 60_000 });

    expect(message).toBeInstanceOf(Message);
    expect({ ...message }).toEqual({ ...plain });
    expect(message.serialize()).toBe(plain.serialize());
    expect(message.serialize(true)).toEqual(plain.serialize(true));
  });

  it('fields changed after sealing (by code it is handed to) change nothing that is published', () => {
    const to = ['u'];
    const message = seal({ a: 1 }, to);
    const sealed = prepareDispatch(message, to, undefined).messageJson;
    const fields = message as unknown as Record<string, unknown>;
    fields.data = { a: 2 };
    fields.type = '"';
    fields.options = { sync: false };

    expect(prepareDispatch(message, to, undefined).messageJson).toBe(sealed);
    expect(prepareDispatch(message, ['v'], undefined).messageJson).toBe(sealed);
    expect(prepareDispatch(message, to, undefined).storable).toBe(true);
    expect(message.serialize()).toBe(sealed);
  });

  it('handed over with the very lists it was sealed for, the prepared dispatch is returned as it is', () => {
    const to = ['u', 'v', 'u'];
    const message = seal({ a: 1 }, to);
    const prepared = prepareDispatch(message, to, undefined);

    expect(prepareDispatch(message, to, undefined)).toBe(prepared);
    expect(prepared).toMatchObject({ recipients: ['u', 'v'], recipientsJson: '["u","v"]', ttl: 60_000, storable: true, broadcast: false });
  });

  it('with other lists (even equal ones), the lists are checked again and the message stays what was checked', () => {
    const data = { text: 'checked' };
    const to = ['u'];
    const message = seal(data, to);
    data.text = 'changed';

    const again = prepareDispatch(message, ['u'], undefined);
    expect(again).not.toBe(prepareDispatch(message, to, undefined));
    expect(JSON.parse(again.messageJson).d).toEqual({ text: 'checked' });
    expect(prepareDispatch(message, ['u', 'w'], ['u']).recipients).toEqual(['w']);
    expect(() => prepareDispatch(message, ['u', ''], undefined)).toThrow(/recipients\[1\] must be a non-empty string user id/);
    expect(() => prepareDispatch(message, to, ['*'])).toThrow(/excluding cannot contain '\*'/);
  });

  it('is checked again against a lower maxPayloadBytes than it was sealed with', () => {
    const to = ['u'];
    const message = seal('x'.repeat(100), to, 10_000);

    expect(() => prepareDispatch(message, to, undefined, 50)).toThrow(/over maxPayloadBytes \(50\)/);
    expect(prepareDispatch(message, to, undefined, 20_000).messageJson).toContain('xxx');
    expect(() => seal('x'.repeat(100), to, 50)).toThrow(/over maxPayloadBytes \(50\)/);
  });

  it('cannot be forged: not through its constructor, nor by a copy or a Proxy of one', () => {
    const data = { text: 'checked' };
    const to = ['u'];
    const message = seal(data, to);
    const Constructor = message.constructor as new (...args: unknown[]) => unknown;
    expect(() => new Constructor(Symbol('nestjs-mesa:sealed-message'), 'T', data, undefined, { ids: ['x'], json: '"]' }, to)).toThrow(
      TypeError,
    );

    const copy = { ...message, data: { text: 'forged' } };
    const proxy = new Proxy(message, { get: (target, key) => (key === 'type' ? 'PROXIED' : Reflect.get(target, key)) });
    data.text = 'changed after sealing';
    expect(SealedMessage.is(message)).toBe(true);
    expect(SealedMessage.is(copy)).toBe(false);
    expect(SealedMessage.is(proxy)).toBe(false);
    expect(JSON.parse(prepareDispatch(message, to, undefined).messageJson).d).toEqual({ text: 'checked' });
    // each is prepared as the ordinary message it is, from its own fields
    expect(JSON.parse(prepareDispatch(copy, to, undefined).messageJson).d).toEqual({ text: 'forged' });
    expect(JSON.parse(prepareDispatch(proxy, to, undefined).messageJson)).toMatchObject({
      d: { text: 'changed after sealing' },
      t: 'PROXIED',
    });
    expect(() => prepareDispatch({ ...message, type: '' }, to, undefined)).toThrow(MesaValidationError);
  });
});

describe('checkSelectedRecipients: what a recipients function returned, through the recipient cache', () => {
  it('answers an array returned again from the cache, and checks it again once changed in place', () => {
    const room = ['a', 'b', 'a'];
    const first = checkSelectedRecipients(room);

    expect(checkSelectedRecipients(room)).toBe(first);
    expect(first.ids).toEqual(['a', 'b']);
    room.push('*');
    expect(() => checkSelectedRecipients(room)).toThrow(/the recipients function returned '\*'/);
  });

  it("refuses ['*'] even when dispatch() cached that very array as a broadcast", () => {
    const everyone = ['*'];
    expect(checkRecipients(everyone).ids).toEqual(['*']);
    expect(checkRecipients(everyone)).toBe(checkRecipients(everyone));

    expect(() => checkSelectedRecipients(everyone)).toThrow(/the recipients function returned '\*'; .*Declare \{ broadcast: true \}/);
  });

  it('refuses what is not an array with the selector message', () => {
    expect(() => checkSelectedRecipients(new Set(['a']))).toThrow(/the recipients function returned Set object/);
    expect(() => checkSelectedRecipients(undefined)).toThrow(/return \[\] to send to nobody/);
  });
});

interface Note {
  text: string;
  to: string[];
  skip?: string[];
}

@Injectable()
class NotesService {
  @Dispatch('NOTE', { recipients: (note: Note) => note.to, excluding: (note: Note) => note.skip ?? [] })
  stream(notes: Note[]): Observable<Note> {
    return new Observable<Note>((subscriber) => {
      for (const note of notes) subscriber.next(note);
      subscriber.complete();
    });
  }

  @Dispatch('NOTE', { recipients: (note: Note) => note.to })
  async post(note: Note): Promise<Note> {
    return note;
  }
}

describe('@Dispatch publishes what it checked, whatever happens to the result afterwards (RecordingDispatcher)', () => {
  let moduleRef: TestingModule;
  let mesa: RecordingDispatcher;
  let notes: NotesService;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [MesaTestingModule.forRoot()], providers: [NotesService] }).compile();
    mesa = moduleRef.get(RecordingDispatcher);
    notes = moduleRef.get(NotesService);
  });
  beforeEach(() => mesa.clear());
  afterAll(() => moduleRef.close());

  it('an emitted value changed while its dispatch waits behind the previous one: sent as it was when emitted', async () => {
    const first = { text: 'first', to: ['ann'] };
    const second = { text: 'second', to: ['ann', 'ben'], skip: ['ann'] };
    const done = new Promise<void>((resolve, reject) => notes.stream([first, second]).subscribe({ complete: resolve, error: reject }));
    // the second value is checked and sealed at emission, its dispatch queued behind the first one's
    second.text = 'changed';
    second.to.push('mallory');
    second.skip!.length = 0;
    await done;

    expect(mesa.dispatched().map((record) => [record.message.d, record.recipients])).toEqual([
      [{ text: 'first', to: ['ann'] }, ['ann']],
      [{ text: 'second', to: ['ann', 'ben'], skip: ['ann'] }, ['ben']],
    ]);
  });

  it('a dispatcher spied on sees a Message of the type, and the arrays the selectors returned', async () => {
    const to = ['ann', 'ben'];
    const seen: unknown[][] = [];
    const dispatch = mesa.dispatch.bind(mesa);
    mesa.dispatch = (...args) => {
      seen.push(args);
      return dispatch(...args);
    };
    try {
      await notes.post({ text: 'hi', to });
    } finally {
      delete (mesa as Partial<RecordingDispatcher>).dispatch;
    }

    expect(seen).toHaveLength(1);
    expect(seen[0][0]).toBeInstanceOf(Message);
    expect((seen[0][0] as Message).type).toBe('NOTE');
    expect(seen[0][1]).toBe(to);
    mesa.expectDispatched('NOTE', { to: ['ann', 'ben'], data: { text: 'hi', to: ['ann', 'ben'] } });
  });
});
