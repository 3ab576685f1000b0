import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../support/free-port.js';
import { killProcess, poll, spawnRedisServer, tempDir } from './processes.js';

/** PEM files made with Debian's openssl CLI in a temporary directory. */
export interface Certificates {
  dir: string;
  /** The test CA (PEM text), to trust in a client. */
  ca: string;
  caFile: string;
  /** Server certificate signed by the CA, for CN/SAN localhost and 127.0.0.1. */
  serverCert: string;
  serverKey: string;
  /** A self-signed server certificate (no CA), for the same names. */
  selfSignedCert: string;
  selfSignedKey: string;
  remove(): void;
}

export function makeCertificates(): Certificates {
  const dir = tempDir('tls');
  const at = (name: string) => join(dir.path, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const selfSigned = (subject: string, name: string, ...extra: string[]) =>
    openssl(
      ...'req -x509 -newkey rsa:2048 -nodes -days 1 -subj'.split(' '),
      subject,
      ...extra,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.crt`),
    );
  writeFileSync(at('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  selfSigned('/CN=nestjs-mesa test CA', 'ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', at('server.key'), '-out', at('server.csr'));
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    at('san.cnf'),
    '-out',
    at('server.crt'),
  );
  selfSigned('/CN=localhost', 'self', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  return {
    dir: dir.path,
    ca: readFileSync(at('ca.crt'), 'utf8'),
    caFile: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    selfSignedCert: at('self.crt'),
    selfSignedKey: at('self.key'),
    remove: dir.remove,
  };
}

/** A private redis-server that speaks TLS only (`--port 0 --tls-port P`), clients not authenticated by certificate. */
export class TlsRedis {
  private constructor(
    readonly port: number,
    private readonly server: { child: ChildProcess; output: () => string },
  ) {}

  static async start(certs: Certificates, options: { selfSigned?: boolean } = {}): Promise<TlsRedis> {
    const port = await freePort();
    const [cert, key] = options.selfSigned ? [certs.selfSignedCert, certs.selfSignedKey] : [certs.serverCert, certs.serverKey];
    const server = spawnRedisServer([
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-ca-cert-file',
      certs.caFile,
      '--tls-auth-clients',
      'no',
    ]);
    const redis = new TlsRedis(port, server);
    try {
      await poll(
        () => /Ready to accept connections/.test(server.output()),
        10_000,
        () => `redis-server with TLS on ${port}: ${server.output()}`,
        20,
      );
    } catch (error) {
      await redis.stop();
      throw error;
    }
    return redis;
  }

  /** A client that trusts the test CA; the caller disconnects it. */
  client(certs: Certificates): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, tls: { ca: certs.ca, servername: 'localhost' } });
  }

  stop(): Promise<void> {
    return killProcess(this.server.child);
  }
}
