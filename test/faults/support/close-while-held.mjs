// Run by test/faults/shutdown-under-load.e2e-spec.ts in its own process (a small heap, a time limit), as
// what it checks could take the whole jest process down. Uses the built package (npm run build).
// Usage: node close-while-held.mjs <redis port>. Prints "ready" once connected; the parent then
// SIGKILLs Redis. Once the module's connection has noticed, one dispatch is issued (and held, as
// whenDisconnected is 'queue'), then app.close() is called. Prints a JSON report, then "closed".
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DispatcherService, Message, MesaModule, MESA_REDIS_CONNECTION } from '../../../dist/index.js';

const DISPATCH_TIMEOUT = 1_000;
class AppModule {}
Module({ imports: [MesaModule.forRoot({ url: `redis://127.0.0.1:${process.argv[2]}`, dispatchTimeout: DISPATCH_TIMEOUT })] })(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const dispatcher = app.get(DispatcherService);
const client = app.get(MESA_REDIS_CONNECTION).client;
process.stdout.write('ready\n');

while (client.status === 'ready') await new Promise((resolve) => setTimeout(resolve, 5));
const status = client.status;
let outcome = 'pending';
dispatcher.dispatch(new Message(0, {}, 'HELD'), ['u1']).then(
  () => (outcome = 'resolved'),
  (error) => (outcome = `${error.constructor.name}: ${error.message}`),
);
const startedAt = Date.now();
await app.close();
console.log(JSON.stringify({ status, outcome, closeMs: Date.now() - startedAt, dispatchTimeout: DISPATCH_TIMEOUT }));
console.log('closed');
