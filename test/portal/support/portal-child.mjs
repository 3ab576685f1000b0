// A Nest application with a portal, in its own process, so a test can SIGKILL it, SIGSTOP it or starve its heap.
// It imports the BUILT library (run `npm run build` first, as `npm test` does).
// Usage: node portal-child.mjs '{"redisUrl":"redis://127.0.0.1:6379","id":"doomed","heartbeatTtl":3000}'
// Optional: "portal" (more portal options), "slowMs" (how long a SLOW handler takes; default: it never settles).
// Prints "joined" once in the pool, "warm <clientId>" and "handled <n>" per frame it handles, "slow" per SLOW
// frame it starts; Nest's warnings and errors go to stderr.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MesaModule, MesaPortalService, OnMesaMessage } from '../../../dist/index.js';

const config = JSON.parse(process.argv[2]);

class Inbox {
  onSeq(message) {
    process.stdout.write(`handled ${message.data.n}\n`);
  }
  onWarm(message) {
    process.stdout.write(`warm ${message.clientId}\n`);
  }
  onSlow() {
    process.stdout.write('slow\n');
    return new Promise((resolve) => config.slowMs !== undefined && setTimeout(resolve, config.slowMs));
  }
}
for (const [method, type] of [
  ['onSeq', 'SEQ'],
  ['onWarm', 'WARM'],
  ['onSlow', 'SLOW'],
]) {
  OnMesaMessage(type)(Inbox.prototype, method, Object.getOwnPropertyDescriptor(Inbox.prototype, method));
}
Injectable()(Inbox);

class ChildModule {}
Module({
  imports: [
    MesaModule.forRoot({
      url: config.redisUrl,
      portal: { enabled: true, id: config.id, ...(config.heartbeatTtl && { heartbeatTtl: config.heartbeatTtl }), ...config.portal },
    }),
  ],
  providers: [Inbox],
})(ChildModule);

const app = await NestFactory.create(ChildModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const portal = app.get(MesaPortalService);
const timer = setInterval(() => {
  if (!portal.joined) return;
  clearInterval(timer);
  process.stdout.write('joined\n');
}, 10);
