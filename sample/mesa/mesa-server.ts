// One Mesa server replica (@cryb/mesa), run in its own process by MesaReplicas, as a deployment would
// run it beside the API. Configuration comes in SAMPLE_MESA_CONFIG (JSON), the token secret in
// SAMPLE_TOKEN_SECRET (environment, not argv, so `ps` does not show it). Prints "ready <port>" once
// it listens; stops on SIGTERM/SIGINT or when its parent goes away (stdin closes).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { verifySessionToken } from '../auth/session-token.js';

/** What the parent passes in SAMPLE_MESA_CONFIG. */
export interface MesaServerConfig {
  port: number;
  host: string;
  redisUrl: string;
  namespace: string;
  /** 0 turns heartbeats off. */
  heartbeatMs: number;
  /** 1-based, for log lines. */
  replica: number;
  /** A socket that has not authenticated by then is closed. */
  authTimeoutMs: number;
}

type Done = (error: Error | null, result?: { id: string; user: object }) => void;
interface MesaClient {
  authenticated: boolean;
  authenticate(check: (data: { token?: unknown } | undefined, done: Done) => void): void;
  disconnect(code?: number): void;
  on(event: 'disconnect', listener: () => void): void;
}
interface MesaServer {
  on(event: 'connection', listener: (client: MesaClient) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  wss: { clients: Set<{ close(code: number, reason: string): void; terminate(): void; once(event: 'close', listener: () => void): void }> };
  redis: { quit(): Promise<unknown>; ping(): Promise<unknown> };
  publisher: { quit(): Promise<unknown> };
  subscriber: { quit(): Promise<unknown> };
}

const require = createRequire(import.meta.url);
const { default: Mesa } = require('@cryb/mesa') as { default: new (config: object) => MesaServer };

const config = JSON.parse(process.env.SAMPLE_MESA_CONFIG ?? '{}') as MesaServerConfig;
const secret = process.env.SAMPLE_TOKEN_SECRET ?? '';
const log = (line: string) => process.stderr.write(`[mesa ${config.replica}] ${line}\n`);
if (!config.port || !secret) {
  log('SAMPLE_MESA_CONFIG and SAMPLE_TOKEN_SECRET are required.');
  process.exit(2);
}

const http = createServer((_, response) => response.writeHead(426, { 'content-type': 'text/plain' }).end('Mesa speaks WebSocket here.\n'));
const server = new Mesa({
  server: http,
  namespace: config.namespace,
  redis: config.redisUrl,
  sync: { enabled: true },
  portal: { enabled: true }, // client frames (the pages' TYPING) go to the API's portal
  heartbeat: { enabled: config.heartbeatMs > 0, interval: config.heartbeatMs, maxAttempts: 3 },
  authentication: { storeConnectedUsers: true, disconnectOnFail: true },
  gracefullyExit: false,
});

server.on('connection', (client) => {
  const deadline = setTimeout(() => client.authenticated || client.disconnect(1008), config.authTimeoutMs);
  client.on('disconnect', () => clearTimeout(deadline));
  client.authenticate((data, done) => {
    // One identity per socket: a second op 2 could otherwise switch the socket to another user.
    if (client.authenticated) return done(new Error('already authenticated'));
    const check = verifySessionToken(data?.token, secret);
    if (!check.ok) {
      log(`refused a socket: ${check.reason}`);
      return done(new Error(check.reason)); // Mesa closes the socket with 1008
    }
    done(null, { id: check.claims.sub, user: { id: check.claims.sub, name: check.claims.name } });
  });
});
server.on('error', (error) => (error as NodeJS.ErrnoException)?.code === 'EADDRINUSE' || log(`error: ${error?.message ?? error}`));

http.once('error', (error) => {
  log(`cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});
// Mesa reads the portal pool (SMEMBERS) first thing on this connection: once a PING after it is answered, the
// server knows the API's portal, so no socket's authentication or disconnection event is dropped for want of one.
server.redis
  .ping()
  .then(() => http.listen(config.port, config.host, () => process.stdout.write(`ready ${config.port}\n`)))
  .catch((error: Error) => {
    log(`cannot reach Redis: ${error.message}`);
    process.exit(1);
  });

let stopping = false;
/** Closes every socket (1001, so pages know the server went away), lets Mesa mark them offline, exits. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const sockets = [...server.wss.clients];
  const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', resolve)));
  sockets.forEach((socket) => socket.close(1001, 'server shutting down'));
  await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  sockets.forEach((socket) => socket.terminate());
  http.close();
  const quit = Promise.allSettled([server.redis.quit(), server.publisher.quit(), server.subscriber.quit()]);
  await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('error', stop).resume();
