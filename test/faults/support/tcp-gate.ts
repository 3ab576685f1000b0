import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../support/free-port.js';

/**
 * A TCP forwarder in front of a Redis port that a test can close and reopen. While it is closed,
 * nothing listens on its port (connections are refused, as by a dead Redis). When Redis dies, the
 * forwarded connections die with it. A test uses it to decide *when* the module may reach a
 * restarted Redis: after the test's own subscriber has re-subscribed, so that "every resolved
 * dispatch reached the subscriber" does not depend on which of the two reconnects first.
 */
export class TcpGate {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** While set ({@link holdReplies}), what Redis answers is kept here, per connection, instead of reaching the client. */
  private held?: Array<{ to: Socket; chunk: Buffer }>;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
    private readonly replySlice?: number,
  ) {}

  /**
   * Forwards to `targetPort`. With `replySlice`, what Redis sends back reaches the client in pieces
   * of that many bytes, one per event-loop turn, as replies split over TCP segments on a real network.
   */
  static async open(targetPort: number, options: { replySlice?: number } = {}): Promise<TcpGate> {
    const gate = new TcpGate(await freePort(), targetPort, options.replySlice);
    await gate.reopen();
    return gate;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Listens (again) on the same port. */
  reopen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      if (this.replySlice) sliced(upstream, client, this.replySlice);
      else upstream.on('data', (chunk: Buffer) => (this.held ? this.held.push({ to: client, chunk }) : client.write(chunk)));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /**
   * From now on, Redis's answers stay in the gate (the commands still reach Redis, which runs them): a connection
   * cut meanwhile loses them, as when a connection dies between Redis running a command and the client reading
   * its answer. Not with `replySlice`.
   */
  holdReplies(): void {
    this.held ??= [];
  }

  /** Delivers the answers held, in order (to the connections still open), and stops holding. */
  releaseReplies(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { to, chunk } of held) if (!to.destroyed) to.write(chunk);
  }

  /** Stops listening (later connections are refused) and cuts the forwarded connections. */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

/** Copies `from` to `to` in pieces of `size` bytes, one piece per event-loop turn, in order. */
function sliced(from: Socket, to: Socket, size: number): void {
  const pending: Buffer[] = [];
  let pumping = false;
  const pump = () => {
    const chunk = pending.shift();
    if (!chunk || to.destroyed) return void (pumping = false);
    if (chunk.length > size) pending.unshift(chunk.subarray(size));
    to.write(chunk.subarray(0, size));
    setImmediate(pump);
  };
  from.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
  });
}
