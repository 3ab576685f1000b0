import { type DynamicModule, Module } from '@nestjs/common';
import { MesaBacklog } from '../backlog/mesa-backlog.service.js';
import { DispatcherService } from '../dispatcher.service.js';
import { MESA_MODULE_OPTIONS, MESA_RESOLVED_OPTIONS } from '../mesa.constants.js';
import { checkMesaName } from '../validation/mesa-name.validator.js';
import { namedMesaTestingModule } from './named-mesa-testing.module.js';
import { resolveMesaOptions } from '../options/resolved-mesa-options.js';
import { MesaPresence } from '../presence/mesa-presence.service.js';
import { MesaBacklogDouble } from './mesa-backlog.double.js';
import { MesaPresenceDouble } from './mesa-presence.double.js';
import type { RecordingDispatcherOptions } from './recorded-dispatch.interface.js';
import { RecordingDispatcher } from './recording-dispatcher.js';

/** Options of {@link MesaTestingModule.forRoot}. */
export interface MesaTestingModuleOptions extends RecordingDispatcherOptions {
  /** Register the module globally, as `MesaModule` does by default. Default `true`. */
  isGlobal?: boolean;
  /**
   * Stand in for the `MesaModule` registration of that name: the doubles are then provided under its tokens
   * only (`getDispatcherToken(name)`, `getMesaPresenceToken(name)`, `getMesaBacklogToken(name)`, ...), so
   * `@InjectDispatcher(name)` and `@Dispatch(type, { dispatcher: name })` get them. Default: the default registration.
   */
  name?: string;
}

/**
 * Replaces `MesaModule` in tests: provides a {@link RecordingDispatcher} under the
 * `DispatcherService` token (so injected services and `@Dispatch` use it) and under its own class,
 * a {@link MesaPresenceDouble} under `MesaPresence` and a {@link MesaBacklogDouble} under `MesaBacklog`
 * (both answering from that dispatcher's online ids and stored messages), plus `MESA_MODULE_OPTIONS` and
 * `MESA_RESOLVED_OPTIONS`. No Redis is needed; the Redis connection token is not provided.
 *
 * ```ts
 * const moduleRef = await Test.createTestingModule({
 *   imports: [MesaTestingModule.forRoot({ sync: { enabled: true }, online: ['bob'] })],
 *   providers: [ChatService],
 * }).compile();
 * const mesa = moduleRef.get(RecordingDispatcher);
 * mesa.setOnline(['bob', 'cy']); // moduleRef.get(MesaPresence).isOnline('cy') now resolves true
 * ```
 *
 * With `name`, it stands in for a named registration instead (see {@link MesaTestingModuleOptions.name}).
 */
@Module({})
export class MesaTestingModule {
  /** A module with a fresh {@link RecordingDispatcher} configured by `options`. */
  static forRoot(options: MesaTestingModuleOptions = {}): DynamicModule {
    const { isGlobal, name: given, ...dispatcherOptions } = options;
    const { namespace, sync, dispatchErrors } = dispatcherOptions;
    const name = checkMesaName(given, 'MesaTestingModule.forRoot');
    if (name !== undefined) return namedMesaTestingModule(name, dispatcherOptions, isGlobal !== false);
    return {
      module: MesaTestingModule,
      global: isGlobal !== false,
      providers: [
        { provide: RecordingDispatcher, useFactory: () => new RecordingDispatcher(dispatcherOptions) },
        { provide: DispatcherService, useExisting: RecordingDispatcher },
        { provide: MESA_MODULE_OPTIONS, useValue: { namespace, sync, dispatchErrors } },
        // the testing double needs no Redis: resolve the options against a placeholder URL, never connected to
        {
          provide: MESA_RESOLVED_OPTIONS,
          useFactory: () => resolveMesaOptions({ url: 'redis://mesa-testing.invalid', namespace, sync, dispatchErrors }),
        },
        {
          provide: MesaPresenceDouble,
          inject: [RecordingDispatcher],
          useFactory: (mesa: RecordingDispatcher) => new MesaPresenceDouble(mesa),
        },
        { provide: MesaPresence, useExisting: MesaPresenceDouble },
        {
          provide: MesaBacklogDouble,
          inject: [RecordingDispatcher],
          useFactory: (mesa: RecordingDispatcher) => new MesaBacklogDouble(mesa),
        },
        { provide: MesaBacklog, useExisting: MesaBacklogDouble },
      ],
      exports: [
        RecordingDispatcher,
        DispatcherService,
        MESA_MODULE_OPTIONS,
        MESA_RESOLVED_OPTIONS,
        MesaPresenceDouble,
        MesaPresence,
        MesaBacklogDouble,
        MesaBacklog,
      ],
    };
  }
}
