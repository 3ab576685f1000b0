// A real Mesa server (@cryb/mesa) in its own process, as one replica of a deployment.
// Usage: node mesa-server.cjs '{"port":4000,"redis":"redis://127.0.0.1:6379","namespace":"x","sync":true,"portal":true}'
// Authentication: the client sends { id, token }; the token must be "token-<id>" (tests forge others).
'use strict';
const { default: Mesa } = require('@cryb/mesa');

const config = JSON.parse(process.argv[2]);
const server = new Mesa({
  port: config.port,
  namespace: config.namespace || undefined,
  redis: config.redis,
  sync: { enabled: !!config.sync },
  portal: { enabled: !!config.portal },
  gracefullyExit: false,
});

server.on('connection', (client) => {
  client.authenticate((data, done) => {
    if (!data || typeof data.id !== 'string' || data.token !== `token-${data.id}`) return done(new Error('bad token'));
    done(null, { id: data.id, user: { id: data.id } });
  });
});
server.on('error', (error) => process.stderr.write(`mesa error: ${error && error.message}\n`));
server.wss.on('listening', () => process.stdout.write(`ready ${config.port}\n`));
process.on('SIGTERM', () => process.exit(0));
