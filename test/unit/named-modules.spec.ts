import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Dispatch,
  DispatcherService,
  getDispatcherToken,
  getMesaBacklogToken,
  getMesaOptionsToken,
  getMesaPresenceToken,
  getMesaRedisConnectionToken,
  getMesaResolvedOptionsToken,
  InjectDispatcher,
  InjectMesaBacklog,
  InjectMesaPresence,
  MESA_MODULE_OPTIONS,
  MESA_REDIS_CONNECTION,
  MESA_RESOLVED_OPTIONS,
  MesaBacklog,
  MesaBacklogDouble,
  MesaConfigurationError,
  MesaModule,
  MesaPresence,
  MesaPresenceDouble,
  MesaTestingModule,
  RecordingDispatcher,
  type ResolvedMesaOptions,
} from '../../lib/index.js';
import { getMesaHealthIndicatorToken, MesaHealthIndicator, MesaHealthModule } from '../../lib/health/index.js';
import { validateMesaOptions } from '../../lib/validation/mesa-options.validator.js';

describe('token getters', () => {
  it("return today's tokens for the default registration (no name, or 'default')", () => {
    for (const name of [undefined, 'default']) {
      expect(getMesaOptionsToken(name)).toBe(MESA_MODULE_OPTIONS);
      expect(getMesaResolvedOptionsToken(name)).toBe(MESA_RESOLVED_OPTIONS);
      expect(getMesaRedisConnectionToken(name)).toBe(MESA_REDIS_CONNECTION);
      expect(getDispatcherToken(name)).toBe(DispatcherService);
      expect(getMesaPresenceToken(name)).toBe(MesaPresence);
      expect(getMesaBacklogToken(name)).toBe(MesaBacklog);
      expect(getMesaHealthIndicatorToken(name)).toBe(MesaHealthIndicator);
    }
  });

  it('return one stable Symbol per name and part, different across names and parts', () => {
    const getters = [
      getMesaOptionsToken,
      getMesaResolvedOptionsToken,
      getMesaRedisConnectionToken,
      getDispatcherToken,
      getMesaPresenceToken,
      getMesaBacklogToken,
      getMesaHealthIndicatorToken,
    ];
    const chat = getters.map((get) => get('chat'));
    chat.forEach((token) => expect(typeof token).toBe('symbol'));
    expect(getters.map((get) => get('chat'))).toEqual(chat);
    const all = [...chat, ...getters.map((get) => get('news'))];
    expect(new Set(all).size).toBe(all.length);
    expect(getDispatcherToken('chat')).toBe(Symbol.for('nestjs-mesa:dispatcher:chat'));
  });

  it.each<[string, unknown]>([
    ['an empty name', ''],
    ['a name with a space', 'a b'],
    ['a name with a colon', 'a:b'],
    ['a number', 7],
    ['null', null],
    ['a name of 101 characters', 'x'.repeat(101)],
  ])('refuse %s, saying what a name is', (_case, name) => {
    expect(() => getDispatcherToken(name as string)).toThrow(MesaConfigurationError);
    expect(() => getDispatcherToken(name as string)).toThrow(/getDispatcherToken: name must be a string of 1 to 100 letters, digits/);
  });

  it('accept letters, digits, -, _ and . up to 100 characters', () => {
    for (const name of ['chat', 'Chat-2', 'eu_west.1', 'x'.repeat(100)]) expect(typeof getMesaPresenceToken(name)).toBe('symbol');
  });
});

describe('MesaModule name validation', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['forRoot with an empty name', () => MesaModule.forRoot({ name: '', url: 'redis://x' }), /MesaModule: name must be a string/],
    ['forRoot with a bad name', () => MesaModule.forRoot({ name: 'a/b', url: 'redis://x' }), /got string "a\/b"/],
    [
      'forRootAsync with a non-string name',
      () => MesaModule.forRootAsync({ name: 5 as never, useFactory: () => ({ url: 'redis://x' }) }),
      /MesaModule: name must be a string.*got number/,
    ],
  ])('%s fails at definition time', (_case, define, message) => {
    expect(define).toThrow(MesaConfigurationError);
    expect(define).toThrow(message);
  });

  it("treats name 'default' as the default registration", () => {
    const named = MesaModule.forRoot({ name: 'default', url: 'redis://x' });
    expect(named.module).toBe(MesaModule);
    expect((named.providers as Array<{ provide: unknown }>).map((p) => p.provide)).toEqual([MESA_MODULE_OPTIONS]);
  });

  it('exports only the named tokens from a named registration, with its options under the named token', () => {
    const named = MesaModule.forRoot({ name: 'chat', url: 'redis://x', isGlobal: false });
    expect(named.module).not.toBe(MesaModule);
    expect(named.global).toBe(false);
    expect(named.exports).toEqual(
      expect.arrayContaining([getDispatcherToken('chat'), getMesaPresenceToken('chat'), getMesaBacklogToken('chat')]),
    );
    expect(named.exports).not.toContain(DispatcherService);
    const provided = (named.providers as Array<{ provide: unknown; useValue?: unknown }>).find(
      (p) => p.provide === getMesaOptionsToken('chat'),
    );
    expect(provided?.useValue).toEqual({ url: 'redis://x' });
  });

  it('refuses name inside the options a factory returns, and sharedConnection that is not a boolean', () => {
    expect(() => validateMesaOptions({ url: 'redis://x', name: 'chat' })).toThrow(/give it beside useFactory/);
    expect(() => validateMesaOptions({ url: 'redis://x', sharedConnection: 'no' })).toThrow(/sharedConnection must be true or false/);
    expect(validateMesaOptions({ url: 'redis://x', sharedConnection: false }).sharedConnection).toBe(false);
  });

  it('refuses a portal on a named registration when the application bootstraps', async () => {
    const compiled = Test.createTestingModule({
      imports: [MesaModule.forRoot({ name: 'chat', url: 'redis://127.0.0.1:1', portal: { enabled: true } })],
    }).compile();
    await expect(compiled).rejects.toThrow(/MesaModule 'chat': portal is available on the default \(unnamed\) registration only/);
  });

  it('refuses a bad dispatcher name in @Dispatch at class definition', () => {
    const define = (dispatcher: unknown) => () => {
      class Subject {
        @Dispatch('EVT', { broadcast: true, dispatcher: dispatcher as string })
        handle() {
          return 1;
        }
      }
      return Subject;
    };
    expect(define('')).toThrow(/@Dispatch on Subject\.handle: dispatcher: name must be a string/);
    expect(define(3)).toThrow(MesaConfigurationError);
    expect(define('chat')).not.toThrow();
  });
});

@Injectable()
class Announcer {
  constructor(
    @InjectDispatcher('chat') readonly chat: RecordingDispatcher,
    @InjectMesaPresence('chat') readonly presence: MesaPresenceDouble,
    @InjectMesaBacklog('chat') readonly backlog: MesaBacklogDouble,
    readonly main: DispatcherService,
  ) {}

  @Dispatch('ROOM', { dispatcher: 'chat', recipients: (room: { members: string[] }) => room.members })
  room(members: string[]) {
    return { members };
  }

  @Dispatch('NOTICE', { broadcast: true })
  notice() {
    return { notice: true };
  }
}

describe('MesaTestingModule.forRoot({ name })', () => {
  it('provides doubles under the named tokens beside the default ones, and @Dispatch({ dispatcher }) uses the named one', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MesaTestingModule.forRoot(),
        MesaTestingModule.forRoot({ name: 'chat', namespace: 'chat', sync: { enabled: true }, online: ['ann'] }),
      ],
      providers: [Announcer],
    }).compile();
    const announcer = moduleRef.get(Announcer);
    const chat = moduleRef.get<RecordingDispatcher>(getDispatcherToken('chat'));
    const main = moduleRef.get(RecordingDispatcher);
    expect(chat).toBeInstanceOf(RecordingDispatcher);
    expect(chat).not.toBe(main);
    expect(announcer.chat).toBe(chat);
    expect(announcer.main).toBe(main);
    expect(moduleRef.get<ResolvedMesaOptions>(getMesaResolvedOptionsToken('chat'))).toMatchObject({ name: 'chat', namespace: 'chat' });

    announcer.room(['ann', 'bob']);
    announcer.notice();
    await new Promise((resolve) => setImmediate(resolve));
    expect(chat.dispatches.map((d) => d.type)).toEqual(['ROOM']);
    expect(chat.lastDispatch('ROOM')).toMatchObject({ channel: 'ws_chat', publishedTo: ['ann'], storedFor: ['bob'] });
    expect(main.dispatches.map((d) => d.type)).toEqual(['NOTICE']);
    expect(await announcer.presence.isOnline('ann')).toBe(true);
    expect(await announcer.backlog.count('bob')).toBe(1);
    expect(await moduleRef.get<MesaBacklogDouble>(MesaBacklog).count('bob')).toBe(0);
  });

  it('refuses a bad name', () => {
    expect(() => MesaTestingModule.forRoot({ name: ' ' })).toThrow(/MesaTestingModule.forRoot: name must be a string/);
  });
});

describe('MesaHealthModule.forFeature', () => {
  it('is the module itself without a name, and provides only the named indicator with one', () => {
    expect(MesaHealthModule.forFeature()).toEqual({ module: MesaHealthModule });
    const named = MesaHealthModule.forFeature('chat');
    expect(named.module).not.toBe(MesaHealthModule);
    expect(named.exports).toContain(getMesaHealthIndicatorToken('chat'));
    expect(() => MesaHealthModule.forFeature('')).toThrow(/MesaHealthModule.forFeature: name must be a string/);
  });
});
