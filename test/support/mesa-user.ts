import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** Mesa's own Node client class (`@cryb/mesa`'s `Client`). */
export const { Client } = require('@cryb/mesa') as { Client: new (url: string, config?: object) => MesaClient };

/** The part of Mesa's Node client the tests use. */
export interface MesaClient {
  connect(): Promise<void>;
  authenticate(data: object, config?: { shouldSync?: boolean }): Promise<unknown>;
  disconnect(code?: number): void;
  on(event: string, listener: (...args: any[]) => void): void;
  ws: { readyState: number };
}

/** What a Mesa client application sees of one message. */
export interface ReceivedMessage {
  op: number;
  d: any;
  t?: string;
  s?: number;
}

/**
 * A user of the product: Mesa's own Node client, connected to a Mesa server and authenticated
 * as `id` (or not authenticated at all), recording every message it receives.
 */
export class MesaUser {
  readonly received: ReceivedMessage[] = [];
  closeCode?: number;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly id: string,
    private readonly client: MesaClient,
  ) {
    client.on('message', (message: { opcode: number; data: unknown; type?: string; sequence?: number }) => {
      this.received.push({ op: message.opcode, d: message.data, t: message.type, s: message.sequence });
      this.notify();
    });
    client.on('disconnected', (code: number) => {
      this.closeCode = code;
      this.notify();
    });
  }

  /** Connects to `url`; authenticates as `id` unless `authenticate` is false. */
  static async connect(url: string, id: string, options: { authenticate?: boolean; shouldSync?: boolean } = {}): Promise<MesaUser> {
    const client = new Client(url, { autoConnect: false });
    const user = new MesaUser(id, client);
    await client.connect();
    if (options.authenticate !== false) {
      await client.authenticate({ id, token: `token-${id}` }, { shouldSync: options.shouldSync ?? true });
    }
    return user;
  }

  /** Messages of type `type` received so far. */
  of(type: string): ReceivedMessage[] {
    return this.received.filter((message) => message.t === type);
  }

  /** Resolves once `predicate` holds, or rejects after `timeoutMs`. */
  async waitFor(predicate: (user: MesaUser) => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`user ${this.id}: timed out waiting for ${what}; received ${JSON.stringify(this.received).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Waits `ms` and asserts nothing of type `type` arrived (for "was not delivered" checks). */
  async quietFor(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  get open(): boolean {
    return this.client.ws.readyState === 1;
  }

  close(): void {
    if (this.open) this.client.disconnect(1000);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}
