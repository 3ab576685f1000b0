import { createServer } from 'node:net';
import { ephemeralRange, freePort } from '../../support/free-port.js';

// The servers tests start in child processes (redis-server, Mesa replicas) bind the port freePort gave them a
// moment later; a port from the ephemeral range can be taken in between as the local end of any outgoing connection.
describe('freePort', () => {
  it('gives ports below the ephemeral range, so no outgoing connection can take one before its server binds it', async () => {
    const [low] = ephemeralRange();
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(ports.filter((port) => port >= low)).toEqual([]);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('skips a port something already listens on', async () => {
    const first = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(first + 1, '127.0.0.1', resolve));
    try {
      const given = [];
      for (let i = 0; i < 3; i++) given.push(await freePort());
      expect(given).not.toContain(first + 1);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
