import { type DynamicModule, Module } from '@nestjs/common';
import {
  getDispatcherToken,
  getMesaBacklogToken,
  getMesaOptionsToken,
  getMesaPresenceToken,
  getMesaResolvedOptionsToken,
} from '../mesa.tokens.js';
import { resolveMesaOptions } from '../options/resolved-mesa-options.js';
import { MesaBacklogDouble } from './mesa-backlog.double.js';
import { MesaPresenceDouble } from './mesa-presence.double.js';
import type { RecordingDispatcherOptions } from './recorded-dispatch.interface.js';
import { RecordingDispatcher } from './recording-dispatcher.js';

/** The module `MesaTestingModule.forRoot({ name })` registers (one per name). */
@Module({})
export class MesaNamedTestingModule {}

/**
 * Doubles of the named registration `name`: a {@link RecordingDispatcher} under `getDispatcherToken(name)`, a
 * {@link MesaPresenceDouble} under `getMesaPresenceToken(name)` and a {@link MesaBacklogDouble} under
 * `getMesaBacklogToken(name)` (both answering from that dispatcher), plus the name's options tokens. Nothing is
 * provided under the classes themselves, so doubles of several names never collide.
 */
export function namedMesaTestingModule(name: string, options: RecordingDispatcherOptions, global: boolean): DynamicModule {
  const { namespace, sync, dispatchErrors } = options;
  const dispatcher = getDispatcherToken(name);
  const tokens = [
    dispatcher,
    getMesaPresenceToken(name),
    getMesaBacklogToken(name),
    getMesaOptionsToken(name),
    getMesaResolvedOptionsToken(name),
  ];
  return {
    module: MesaNamedTestingModule,
    global,
    providers: [
      { provide: dispatcher, useFactory: () => new RecordingDispatcher(options) },
      {
        provide: getMesaPresenceToken(name),
        inject: [dispatcher],
        useFactory: (mesa: RecordingDispatcher) => new MesaPresenceDouble(mesa),
      },
      { provide: getMesaBacklogToken(name), inject: [dispatcher], useFactory: (mesa: RecordingDispatcher) => new MesaBacklogDouble(mesa) },
      { provide: getMesaOptionsToken(name), useValue: { namespace, sync, dispatchErrors } },
      {
        provide: getMesaResolvedOptionsToken(name),
        useFactory: () => resolveMesaOptions({ url: 'redis://mesa-testing.invalid', namespace, sync, dispatchErrors }, name),
      },
    ],
    exports: tokens,
  };
}
