import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MesaModuleExtras, MesaModuleOptions } from './interfaces/mesa-module-options.interface.js';
import { MESA_MODULE_OPTIONS } from './mesa.constants.js';
import { checkMesaName } from './validation/mesa-name.validator.js';
import { namedMesaModule } from './named/named-mesa-module.js';

/**
 * `MesaModule`'s dynamic-module plumbing: `forRoot(options)` and `forRootAsync({ imports, inject,
 * useFactory | useClass | useExisting })`, plus the `isGlobal` extra (default `true`) and the `name` extra (a
 * named registration: see `namedMesaModule`).
 */
export const {
  ConfigurableModuleClass: MesaConfigurableModuleClass,
  OPTIONS_TYPE: MESA_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MESA_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MesaModuleOptions>({ moduleName: 'Mesa', optionsInjectionToken: MESA_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMesaOptions')
  .setExtras<MesaModuleExtras>({ isGlobal: true, name: undefined }, (definition, extras) => {
    const name = checkMesaName(extras.name, 'MesaModule');
    if (name !== undefined) return namedMesaModule(definition, name, extras.isGlobal !== false);
    return {
      ...definition,
      global: extras.isGlobal !== false,
    };
  })
  .build();

/** Options of `MesaModule.forRoot()`: {@link MesaModuleOptions} plus `isGlobal` and `name`. */
export type MesaModuleForRootOptions = typeof MESA_OPTIONS_TYPE;

/** Options of `MesaModule.forRootAsync()`: `imports`, `inject`, `useFactory | useClass | useExisting`, `isGlobal`, `name`. */
export type MesaModuleAsyncOptions = typeof MESA_ASYNC_OPTIONS_TYPE;
