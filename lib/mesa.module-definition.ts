import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MesaModuleExtras, MesaModuleOptions } from './interfaces/mesa-module-options.interface.js';
import { MESA_MODULE_OPTIONS } from './mesa.constants.js';

/**
 * `MesaModule`'s dynamic-module plumbing: `forRoot(options)` and `forRootAsync({ imports, inject,
 * useFactory | useClass | useExisting })`, plus the `isGlobal` extra (default `true`).
 */
export const {
  ConfigurableModuleClass: MesaConfigurableModuleClass,
  OPTIONS_TYPE: MESA_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MESA_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MesaModuleOptions>({ moduleName: 'Mesa', optionsInjectionToken: MESA_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMesaOptions')
  .setExtras<MesaModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal !== false,
  }))
  .build();

/** Options of `MesaModule.forRoot()`: {@link MesaModuleOptions} plus `isGlobal`. */
export type MesaModuleForRootOptions = typeof MESA_OPTIONS_TYPE;

/** Options of `MesaModule.forRootAsync()`: `imports`, `inject`, `useFactory | useClass | useExisting`, `isGlobal`. */
export type MesaModuleAsyncOptions = typeof MESA_ASYNC_OPTIONS_TYPE;
