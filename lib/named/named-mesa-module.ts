import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { MESA_MODULE_OPTIONS } from '../mesa.constants.js';
import { mesaRegistrationExports, mesaRegistrationProviders } from '../mesa.providers.js';
import { getMesaOptionsToken } from '../mesa.tokens.js';
import { MesaCoreModule } from './mesa-core.module.js';

/**
 * The module a named `MesaModule.forRoot({ name })` / `forRootAsync({ name })` registers: the same parts as
 * the default registration, each under the name's own token (see `getDispatcherToken(name)` etc.), so that
 * registrations never see (or override) each other's parts. It exports only those named tokens.
 */
@Module({ imports: [MesaCoreModule] })
export class MesaNamedModule {}

/**
 * Turns the definition `ConfigurableModuleBuilder` built (its options provider, the async `imports`) into a
 * named registration.
 */
export function namedMesaModule(definition: DynamicModule, name: string, global: boolean): DynamicModule {
  const optionsToken = getMesaOptionsToken(name);
  const given = (definition.providers ?? []).map((provider) =>
    typeof provider === 'object' && 'provide' in provider && provider.provide === MESA_MODULE_OPTIONS
      ? ({ ...provider, provide: optionsToken } as Provider)
      : provider,
  );
  const exported = [...mesaRegistrationExports(name), optionsToken];
  return { ...definition, module: MesaNamedModule, global, providers: [...given, ...mesaRegistrationProviders(name)], exports: exported };
}
