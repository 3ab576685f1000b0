// The contenders, behind one shape so every scenario drives them identically:
//   { key, label, dispatch(recipients, data, type) -> Promise | undefined, settle() -> Promise, close() -> Promise }
// settle() resolves once Redis has executed every command the contender issued so far (the original
// Dispatcher returns nothing and fires its sync writes and publishes without awaiting them).
// `baseline` is nestjs-mesa built from another checkout (BENCH_BASELINE), driven exactly like `nestjs`.
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { config } from './config.js';
import { createNestApp, loadMesa } from './nest.js';

const require = createRequire(import.meta.url);
const { Dispatcher, Message: MesaMessage } = require('@cryb/mesa');

export const LABELS = {
  original: '@cryb/mesa Dispatcher (original)',
  raw: 'raw ioredis publish',
  nestjs: 'nestjs-mesa DispatcherService',
  decorated: 'nestjs-mesa @Dispatch method',
  manual: 'same method, dispatch() by hand',
  baseline: 'nestjs-mesa @ baseline',
};

let baselineMesa;
/** The BENCH_BASELINE checkout's dist module, imported once, and its label; undefined without BENCH_BASELINE. */
async function baseline() {
  if (!config.baseline) return undefined;
  if (!baselineMesa) {
    const { mesa, rev } = await loadMesa(config.baseline);
    baselineMesa = { mesa, label: `nestjs-mesa @ ${rev}` };
  }
  return baselineMesa;
}

/** The contender keys `keys`, plus 'baseline' after 'nestjs' when BENCH_BASELINE is set. */
export function withBaseline(keys) {
  return config.baseline ? keys.flatMap((key) => (key === 'nestjs' ? [key, 'baseline'] : [key])) : keys;
}

/** Creates contender `key` ('original' | 'raw' | 'nestjs' | 'baseline' | 'decorated' | 'manual') on Redis `url`. */
export async function createContender(key, url, { sync = false } = {}) {
  switch (key) {
    case 'original':
      return original(url, sync);
    case 'raw':
      return raw(url);
    case 'nestjs':
    case 'decorated':
    case 'manual':
      return nestjs(key, url, sync);
    case 'baseline': {
      const found = await baseline();
      if (!found) throw new Error('the baseline contender needs BENCH_BASELINE');
      return nestjs(key, url, sync, found);
    }
    default:
      throw new Error(`unknown contender ${key}`);
  }
}

async function original(url, sync) {
  const dispatcher = new Dispatcher(url, sync ? { sync: { enabled: true } } : undefined);
  // Its two ioredis 4 clients (commands and publishes); ping both so they are connected before timing.
  const clients = [dispatcher.redis, dispatcher.publisher];
  await Promise.all(clients.map((client) => client.ping()));
  return {
    key: 'original',
    label: LABELS.original,
    dispatch: (recipients, data, type) => dispatcher.dispatch(new MesaMessage(0, data, type), recipients),
    // Commands on one connection run in order: a PING answered means everything issued before it ran.
    settle: () => Promise.all(clients.map((client) => client.ping())),
    close: () => Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect()))),
  };
}

async function raw(url) {
  const client = new Redis(url, { enableAutoPipelining: true });
  await client.ping();
  return {
    key: 'raw',
    label: LABELS.raw,
    dispatch: (recipients, data, type) => client.publish('ws', JSON.stringify({ message: { op: 0, d: data, t: type }, recipients })),
    settle: async () => undefined,
    close: () => client.quit().catch(() => client.disconnect()),
  };
}

async function nestjs(key, url, sync, other) {
  const { moduleRef, dispatcher, rooms, mesa } = await createNestApp(url, { sync, mesa: other?.mesa });
  const { Message } = mesa;
  const dispatch =
    key === 'decorated'
      ? (recipients, data) => rooms.post(data) // recipients come from data.to, type is the decorator's 'EVT'
      : key === 'manual'
        ? (recipients, data) => rooms.postManually(data)
        : (recipients, data, type) => dispatcher.dispatch(new Message(0, data, type), recipients);
  return {
    key,
    label: other?.label ?? LABELS[key],
    dispatch,
    settle: async () => undefined,
    close: () => moduleRef.close(),
  };
}
