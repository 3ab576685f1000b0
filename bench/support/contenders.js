// The contenders, behind one shape so every scenario drives them identically:
//   { key, label, dispatch(recipients, data, type) -> Promise | undefined, settle() -> Promise, close() -> Promise }
// settle() resolves once Redis has executed every command the contender issued so far (the original
// Dispatcher returns nothing and fires its sync writes and publishes without awaiting them).
// `baseline` is nestjs-mesa built from another checkout (BENCH_BASELINE), driven exactly like `nestjs` but
// in its own process (contender-process.js explains why): { key, label, remote: true, run(request), close() }.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { config } from './config.js';
import { createNestApp, loadMesa } from './nest.js';
import { killAndWait, spawnTracked } from './processes.js';

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

/**
 * Creates contender `key` ('original' | 'raw' | 'nestjs' | 'baseline' | 'decorated' | 'manual') on Redis `url`.
 * 'baseline' runs in a process of its own, and so does every contender with `isolated` (the scenarios that
 * compare the two builds set it whenever BENCH_BASELINE is set, so that every contender, raw ioredis included,
 * is measured alike: timings taken in the bench's own process and in a child's are not comparable); `inProcess`
 * is what that process itself asks for.
 */
export async function createContender(key, url, { sync = false, isolated = false, inProcess = false } = {}) {
  if (!inProcess && (key === 'baseline' || isolated)) return remote(key, url, sync);
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

const CONTENDER_SCRIPT = fileURLToPath(new URL('./contender-process.js', import.meta.url));

/** Contender `key` in a child process (contender-process.js); drive.js and the scenarios call run(). */
async function remote(key, url, sync) {
  const child = spawnTracked(process.execPath, [CONTENDER_SCRIPT, key, url, sync ? 'sync' : 'nosync'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { label } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${key} contender process exited with ${code}`)));
  });
  let nextId = 0;
  const waiting = new Map();
  child.on('message', (reply) => {
    const settle = waiting.get(reply.id);
    waiting.delete(reply.id);
    settle?.(reply);
  });
  child.on('exit', (code) => {
    for (const settle of waiting.values()) settle({ error: `${key} contender process exited with ${code}` });
    waiting.clear();
  });
  const run = (request) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply)));
      child.send({ ...request, id });
    });
  return {
    key,
    label,
    remote: true,
    run,
    dispatch: () => {
      throw new Error(`${key} runs in its own process: use run()`);
    },
    settle: async () => undefined,
    close: async () => {
      if (child.connected) await run({ op: 'close' }).catch(() => undefined);
      await killAndWait(child);
    },
  };
}
