import { Client, type MesaClient } from '../../support/mesa-user.js';

/** An HTTP answer of the sample's API. */
export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

/** Calls the sample API at `baseUrl`, with a Bearer token when given. */
export async function callApi<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** What a socket received: Mesa's opcode, data, type and (when redelivered) sequence. */
export interface Received {
  op: number;
  d: any;
  t?: string;
  s?: number;
}

/**
 * A person using the sample from Node: signs in through the API, then opens a Mesa socket with Mesa's
 * own Node client, authenticating with the session token (as the page does with a raw WebSocket).
 */
export class ChatClient {
  readonly received: Received[] = [];
  closeCode?: number;
  authenticated = false;

  private constructor(
    private readonly client: MesaClient,
    readonly token: string,
  ) {
    client.on('message', (message: { opcode: number; data: unknown; type?: string; sequence?: number }) => {
      this.received.push({ op: message.opcode, d: message.data, t: message.type, s: message.sequence });
    });
    client.on('disconnected', (code: number) => (this.closeCode = code));
  }

  /** Signs in as `name`; returns the API's session answer. */
  static async signIn(
    baseUrl: string,
    name: string,
  ): Promise<{ token: string; user: { id: string; name: string }; mesa: { port: number; replica: number }; pending: number }> {
    const answer = await callApi(baseUrl, 'POST', '/api/session', undefined, { name });
    if (answer.status !== 201) throw new Error(`sign-in as ${name} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /**
   * Connects to the Mesa server on `port` and sends `token` (op 2). Resolves once authenticated (op 22),
   * or, with `expectRefusal`, right after sending it.
   */
  static async connect(port: number, token: string, options: { expectRefusal?: boolean } = {}): Promise<ChatClient> {
    const client = new Client(`ws://127.0.0.1:${port}`, { autoConnect: false });
    const user = new ChatClient(client, token);
    await client.connect();
    const authenticated = client.authenticate({ token }).then(() => (user.authenticated = true));
    if (!options.expectRefusal) await authenticated;
    return user;
  }

  /** Messages of type `type`, in arrival order. */
  of(type: string): Received[] {
    return this.received.filter((message) => message.t === type);
  }

  get open(): boolean {
    return this.client.ws.readyState === 1;
  }

  /** Sends an event to the API through Mesa's Portal (op 0 with a type), as the page does. */
  send(type: string, data: unknown): void {
    if (this.open) (this.client.ws as unknown as { send(text: string): void }).send(JSON.stringify({ op: 0, d: data, t: type }));
  }

  /** Closes the socket normally (the user goes offline). */
  close(): void {
    if (this.open) this.client.disconnect(1000);
  }
}
