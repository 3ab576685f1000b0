// Client messages handled per second by a nestjs-mesa portal (Mesa's Portal in Nest).
// Usage: npm run build && node bench/portal-throughput.mjs [messages=20000] [instances=1]
// Starts its own redis-server on a free port and two Mesa replicas (portal.enabled), then:
//   1. end to end: Mesa's own Node clients (one per replica) send N frames; the clock runs from the
//      first send to the last frame handled by an @OnMesaMessage handler (all instances together);
//   2. portal only: N frames published straight onto the portal channel (what the servers do), to
//      show the portal's own ceiling apart from the Mesa servers.
// It counts every message (exactly N handled, none twice) and prints; it asserts nothing about speed.
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { MesaModule, MesaPortalService, OnMesaMessage } from '../dist/index.js';

const require = createRequire(import.meta.url);
const { Client, Message } = require('@cryb/mesa');
const MESA_SERVER = fileURLToPath(new URL('../test/support/mesa-server.cjs', import.meta.url));
const N = Number(process.argv[2] ?? 20_000);
const INSTANCES = Number(process.argv[3] ?? 1);
const children = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  children.push(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }),
  );
  const probe = new Redis(port, '127.0.0.1', { retryStrategy: () => 20, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  await probe.ping();
  probe.disconnect();
  return `redis://127.0.0.1:${port}`;
}

async function startMesa(redisUrl) {
  const port = await freePort();
  const child = spawn(process.execPath, [MESA_SERVER, JSON.stringify({ port, redis: redisUrl, portal: true })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise((resolve) => child.stdout.on('data', (chunk) => chunk.toString().includes('ready') && resolve()));
  return `ws://127.0.0.1:${port}`;
}

const counts = { seen: new Set(), duplicates: 0, last: 0 };
class Counter {
  onBench(message) {
    const n = message.data.n;
    if (counts.seen.has(n)) counts.duplicates++;
    counts.seen.add(n);
    counts.last = performance.now();
  }
}
OnMesaMessage('BENCH')(Counter.prototype, 'onBench', Object.getOwnPropertyDescriptor(Counter.prototype, 'onBench'));
Injectable()(Counter);

async function startInstance(redisUrl, id) {
  class BenchModule {}
  Module({ imports: [MesaModule.forRoot({ url: redisUrl, portal: { enabled: true, id } })], providers: [Counter] })(BenchModule);
  const app = await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const portal = app.get(MesaPortalService);
  while (!portal.joined) await sleep(10);
  return app;
}

async function waitAll(total, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (counts.seen.size < total && Date.now() < deadline) await sleep(5);
}

function report(label, started) {
  const ms = counts.last - started;
  const ok = counts.seen.size === N && counts.duplicates === 0;
  console.log(
    `${label}: ${counts.seen.size}/${N} handled, ${counts.duplicates} duplicates, ${ms.toFixed(0)} ms, ${Math.round((counts.seen.size / ms) * 1000)} messages/s${ok ? '' : '  (COUNT CHECK FAILED)'}`,
  );
  return ok;
}

let ok = true;
const apps = [];
try {
  const redisUrl = await startRedis();
  const mesaUrls = [await startMesa(redisUrl), await startMesa(redisUrl)];
  for (let i = 0; i < INSTANCES; i++) apps.push(await startInstance(redisUrl, `bench-${i}`));
  await sleep(300);
  const clients = [];
  for (const [index, url] of mesaUrls.entries()) {
    const client = new Client(url, { autoConnect: false });
    await client.connect();
    await client.authenticate({ id: `user-${index}`, token: `token-user-${index}` });
    clients.push(client);
  }

  let started = performance.now();
  for (let n = 0; n < N; n++) {
    clients[n % clients.length].send(new Message(0, { n }, 'BENCH'));
    if (n % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await waitAll(N, 120_000);
  ok = report(`end to end (2 Mesa replicas, ${INSTANCES} Nest instance(s))`, started) && ok;
  clients.forEach((client) => client.disconnect(1000));

  counts.seen.clear();
  const publisher = new Redis(redisUrl, { enableAutoPipelining: true });
  started = performance.now();
  for (let n = 0; n < N; n++) {
    publisher.publish(
      'portal',
      JSON.stringify({ type: 'message', message: { op: 0, d: { n }, t: 'BENCH' }, clientId: 'user-0', portalId: `bench-${n % INSTANCES}` }),
    );
  }
  await waitAll(N, 120_000);
  ok = report(`portal only (frames published on the channel, ${INSTANCES} instance(s))`, started) && ok;
  publisher.disconnect();
} finally {
  await Promise.all(apps.map((app) => app.close()));
  for (const child of children.reverse()) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
process.exit(ok ? 0 : 1);
