// Run by test/faults/sweep-takeover.e2e-spec.ts: an instance of an application whose MesaModule sweeps expired
// stored messages, in a process of its own so that the test can SIGKILL it. Uses the built package (npm run build).
// Usage: node sweeping-app.mjs <redis url> <sync options as JSON>. Prints "ready" once bootstrapped, then stays up.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MesaModule } from '../../../dist/index.js';

class AppModule {}
Module({ imports: [MesaModule.forRoot({ url: process.argv[2], sync: JSON.parse(process.argv[3]) })] })(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
await app.init();
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
