import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Message, MesaBacklogSweeper } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { killProcess, poll, sleep } from './support/processes.js';

const APP = fileURLToPath(new URL('./support/sweeping-app.mjs', import.meta.url));
const SWEEP_INTERVAL = 1_000;
const TTL = 500;
/** The lock's time to live: `SWEEP_LOCK_MS` (2 s), or `sync.sweepInterval` when shorter. */
const LOCK = Math.min(2_000, SWEEP_INTERVAL);
/** README (Sync, Expiry): when the sweeping instance dies, expired messages go within this of their expiry, plus two passes. */
const BOUND_AFTER_EXPIRY = SWEEP_INTERVAL + 1.5 * LOCK;
/** Two sweep passes over a handful of users, with room for a loaded machine. */
const PASSES = 400;

/**
 * The sweep's lock used to live 3 × sweepInterval (at least 5 s): when the instance holding it died, an expired
 * message stayed deliverable for seconds past the documented bound (24.3 s with a 10 s interval in issue 17).
 * Here the sweeping instance is another process, SIGKILLed right after a message was stored, and the user logs in
 * through a real Mesa server once the documented bound has passed.
 */
describe('the sweep when the instance sweeping dies (a child process, SIGKILL)', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, sync: true });
  });
  afterAll(async () => {
    await killProcess(child);
    await mesa.stop();
    await redis.stop();
  });

  it('another instance takes the sweep over and the expired message is gone within the documented bound', async () => {
    const db = redis.client();
    const sync = { enabled: true, ttl: TTL, sweepInterval: SWEEP_INTERVAL };
    child = spawn(process.execPath, [APP, redis.url, JSON.stringify(sync)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child!.once('exit', (code) => reject(new Error(`the sweeping app exited with ${code}`)));
    });
    await poll(async () => (await db.get('nestjs_mesa_sweep_lock')) !== null, 5_000, 'the child to take the sweep lock');
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync });
    const user = await (async () => {
      try {
        expect((await moduleRef.get(MesaBacklogSweeper).sweep()).swept).toBe(false);
        const holder = await db.get('nestjs_mesa_sweep_lock');

        await dispatcher.dispatch(new Message(0, { n: 1 }, 'NOTE'), ['gone']);
        const expiry = Date.now() + TTL;
        await killProcess(child);
        await sleep(expiry + BOUND_AFTER_EXPIRY + PASSES - Date.now());

        expect(await db.hexists('undelivered_messages', 'gone')).toBe(0);
        expect(await db.get('nestjs_mesa_sweep_lock')).not.toBe(holder);
        return await MesaUser.connect(mesa.url(), 'gone');
      } finally {
        await moduleRef.close();
      }
    })();
    try {
      await user.quietFor(500);
      expect(user.received).toEqual([]);
    } finally {
      user.close();
      db.disconnect();
    }
  });
});
