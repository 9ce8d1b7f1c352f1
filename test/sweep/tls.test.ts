/**
 * rediss:// and a password: a redis-server of the test's own with TLS only and requirepass, its
 * certificate signed by a CA made here (openssl). The CA given to Node, the right password gets
 * in; a wrong one, or no CA to check the certificate against, is refused in one line (exit 1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/harness/free-port.js';

let dir: string;
let port: number;

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'copylab-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=copylab test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext'), 'subjectAltName=DNS:localhost\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '1', '-extfile', 'ext');
  port = await freePort();
  const redis = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'srv.pem', '--tls-key-file', 'srv.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no', '--requirepass', 's3cret', '--save', '', '--appendonly', 'no'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    redis.stdout.on('data', (d) => {
      out += String(d);
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return () => {
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
});

function status(url: string, ca: boolean) {
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: ca ? join(dir, 'ca.pem') : '' };
  const r = spawnSync(process.execPath, ['bin/copylab.js', 'sweep', 'status', 'sw-0123456789abcdef', '--queue', url], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, err: r.stderr };
}

describe('rediss:// with a password', () => {
  it('gets in with the CA and the password; a wrong password or an unchecked certificate is refused in one line', () => {
    const ok = status(`rediss://:s3cret@localhost:${port}`, true);
    // Connected and authenticated: the queue answers that it has no such sweep.
    expect(ok.err).toBe('copylab sweep status: no sweep sw-0123456789abcdef on this queue (never submitted, or expired after its retention)\n');
    expect(ok.code).toBe(2);
    const wrong = status(`rediss://:nope-wrong@localhost:${port}`, true);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^copylab sweep status: cannot use the queue at rediss:\/\/:\*\*\*@localhost:\d+: WRONGPASS/);
    expect(wrong.err).not.toMatch(/nope-wrong/);
    const unchecked = status(`rediss://:s3cret@localhost:${port}`, false);
    expect(unchecked.code).toBe(1);
    expect(unchecked.err).toMatch(/^copylab sweep status: cannot use the queue at rediss:\/\/:\*\*\*@localhost:\d+: self-signed certificate in certificate chain\n$/);
  });
});
