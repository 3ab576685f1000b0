import { Inject } from '@nestjs/common';
import { getDispatcherToken, getMesaBacklogToken, getMesaPresenceToken } from '../mesa.tokens.js';

/**
 * Injects the {@link DispatcherService} of the `MesaModule` registration called `name`
 * (`MesaModule.forRoot({ name: 'chat', ... })`); without a name, the default registration's (the same as
 * injecting `DispatcherService` by type).
 *
 * ```ts
 * constructor(@InjectDispatcher('chat') private readonly chat: DispatcherService<ChatEvents>) {}
 * ```
 * @throws MesaConfigurationError at class definition for a name that is not 1 to 100 letters, digits, `-`, `_` or `.`.
 */
export function InjectDispatcher(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getDispatcherToken(name));
}

/** Injects the {@link MesaPresence} of the registration called `name` (default: the default registration's). */
export function InjectMesaPresence(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMesaPresenceToken(name));
}

/** Injects the {@link MesaBacklog} of the registration called `name` (default: the default registration's). */
export function InjectMesaBacklog(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMesaBacklogToken(name));
}
