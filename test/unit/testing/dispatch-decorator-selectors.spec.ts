import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { lastValueFrom, of } from 'rxjs';
import { Dispatch, MesaTestingModule, MesaValidationError, RecordingDispatcher } from '../../../lib/index.js';
import { RecordingLogger } from '../../support/recording-logger.js';

interface Note {
  to?: unknown;
}

@Injectable()
class NotesService {
  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[], onError: 'log' })
  plain(note: Note): Note {
    return note;
  }

  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[], onError: 'log' })
  async later(note: Note): Promise<Note> {
    return note;
  }

  @Dispatch('NOTE', { recipients: (note: Note) => note.to as string[], onError: 'log' })
  stream(note: Note) {
    return of(note);
  }
}

describe('@Dispatch selectors through the testing double behave as with the real service', () => {
  let moduleRef: TestingModule;
  let mesa: RecordingDispatcher;
  let notes: NotesService;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [MesaTestingModule.forRoot()], providers: [NotesService] }).compile();
    moduleRef.useLogger(logger);
    mesa = moduleRef.get(RecordingDispatcher);
    notes = moduleRef.get(NotesService);
  });
  beforeEach(() => mesa.clear());
  afterAll(() => moduleRef.close());

  it.each([undefined, null, 'ann', new Set(['ann'])])(
    'recipients %p: thrown, rejected or errored even under onError log; nothing recorded',
    async (to) => {
      expect(() => notes.plain({ to })).toThrow(MesaValidationError);
      await expect(notes.later({ to })).rejects.toThrow(/NotesService\.later: the recipients function returned/);
      await expect(lastValueFrom(notes.stream({ to }))).rejects.toThrow(MesaValidationError);
      mesa.expectNothingDispatched();
    },
  );

  it('a Redis failure under onError log: the plain value and the Promise are returned, nothing recorded', async () => {
    mesa.failNextDispatch();
    expect(notes.plain({ to: ['ann'] })).toEqual({ to: ['ann'] });
    mesa.failNextDispatch();
    await expect(notes.later({ to: ['ann'] })).resolves.toEqual({ to: ['ann'] });
    mesa.expectNothingDispatched();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.errors(/@Dispatch\('NOTE'\) on NotesService\.(plain|later): Redis did not take the dispatch/)).toHaveLength(2);
    await notes.later({ to: ['ann'] });
    mesa.expectDispatched('NOTE', { to: ['ann'], data: { to: ['ann'] } });
  });
});
