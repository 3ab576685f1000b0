import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DispatcherService, MesaModule, type MesaModuleForRootOptions } from '../../lib/index.js';

/** A Nest testing module with MesaModule.forRoot(options) and the given providers/controllers, initialised. */
export async function createMesaModule(
  options: MesaModuleForRootOptions,
  extra: { providers?: any[]; controllers?: Type[]; imports?: Array<Type | DynamicModule>; logger?: LoggerService | false } = {},
): Promise<{ moduleRef: TestingModule; dispatcher: DispatcherService }> {
  const moduleRef = await Test.createTestingModule({
    imports: [MesaModule.forRoot(options), ...(extra.imports ?? [])],
    providers: extra.providers ?? [],
    controllers: extra.controllers ?? [],
  }).compile();
  if (extra.logger !== undefined) moduleRef.useLogger(extra.logger);
  await moduleRef.init();
  return { moduleRef, dispatcher: moduleRef.get(DispatcherService) };
}

/** A listening HTTP Nest application with MesaModule.forRoot(options); returns its base URL. */
export async function createMesaHttpApp(
  options: MesaModuleForRootOptions,
  extra: { providers?: any[]; controllers?: Type[]; logger?: LoggerService | false },
): Promise<{ app: INestApplication; baseUrl: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [MesaModule.forRoot(options)],
    providers: extra.providers ?? [],
    controllers: extra.controllers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: extra.logger ?? false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${port}` };
}

/** Polls until `check` returns true (for state other processes change, such as Mesa's SADD/SREM). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
