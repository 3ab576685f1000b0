import { Module } from '@nestjs/common';
import { MesaConnectionRegistry } from '../redis/mesa-connection-registry.js';

/**
 * What every `MesaModule` registration of an application shares: the {@link MesaConnectionRegistry} (names in
 * use, shared connections). A static module, so Nest creates it once per application.
 */
@Module({
  providers: [{ provide: MesaConnectionRegistry, useFactory: () => new MesaConnectionRegistry() }],
  exports: [MesaConnectionRegistry],
})
export class MesaCoreModule {}
