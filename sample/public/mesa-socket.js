// A Mesa client in a few lines of browser JavaScript: a raw WebSocket speaking Mesa's protocol.
//   server → op 10 hello (first frame; says the heartbeat interval, if any)
//   client → op 2  {"token": ...}   authenticate (Mesa redelivers stored messages after this)
//   server → op 22 the user object   authenticated
//   server → op 0  {"t": type, "d": data, "s": sequence}   a dispatch ("s" only when redelivered)
//   server → op 1  heartbeat, which needs op 11 back (only when the server enables heartbeats)
//   client → op 0  {"t": type, "d": data}   an event for the API (Mesa's Portal forwards it to Nest)
// A refused token makes the server close the socket with code 1008.

/** Socket states, in the order they happen. */
export const STATES = ['connecting', 'authenticating', 'authenticated', 'closed'];

/**
 * One Mesa connection. Events: `state` (detail: state), `dispatch` (detail: { type, data, sequence }),
 * `frame` (detail: { direction: 'in' | 'out', frame }), `heartbeat`, `closed` (detail: { code, reason }).
 */
export class MesaSocket extends EventTarget {
  /** @param {string} url ws:// address of a Mesa server. @param {string} token session token. */
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this.state = 'connecting';
    this.heartbeats = 0;
    this.user = null;
  }

  /** Opens the socket; authentication follows the server's hello by itself. */
  connect() {
    this.setState('connecting');
    this.ws = new WebSocket(this.url);
    this.ws.addEventListener('message', (event) => this.receive(event.data));
    this.ws.addEventListener('close', (event) => {
      this.setState('closed');
      this.emit('closed', { code: event.code, reason: event.reason });
    });
  }

  /** Closes the socket (1000: a normal close, e.g. signing out). */
  close(code = 1000) {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(code);
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    this.emit('frame', { direction: 'in', frame });
    switch (frame.op) {
      case 10:
        this.setState('authenticating');
        return this.send({ op: 2, d: { token: this.token } });
      case 22:
        this.user = frame.d;
        return this.setState('authenticated');
      case 1:
        this.heartbeats += 1;
        this.send({ op: 11, d: {} });
        return this.emit('heartbeat', { count: this.heartbeats });
      case 0:
        return this.emit('dispatch', { type: frame.t, data: frame.d, sequence: frame.s });
    }
  }

  /** Sends an event to the API (op 0), e.g. `TYPING`; false when the socket is not authenticated. */
  sendEvent(type, data) {
    if (this.state !== 'authenticated') return false;
    this.send({ op: 0, t: type, d: data });
    return true;
  }

  send(frame) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(frame));
    this.emit('frame', { direction: 'out', frame });
  }

  setState(state) {
    this.state = state;
    this.emit('state', state);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
