// bin/berth starts node without NODE_EXTRA_CA_CERTS (node would parse the file before our first
// line) and keeps the value in BERTH_EXTRA_CA_CERTS; what connects out over TLS (the registry
// client, import URL, the registry proxy) still trusts its certificates (util/tls-trust.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { extraCaList } from '../../src/util/tls-trust.js';
import { BERTH, repoRoot } from '../cli/helpers.js';

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('bin/berth run as a program starts node without NODE_EXTRA_CA_CERTS', async () => {
  // node warns at start-up when it cannot read the file: the warning shows whether it read it.
  const env = { NODE_EXTRA_CA_CERTS: '/nonexistent/berth-extra-ca.pem' };
  const viaNode = await run(process.execPath, [BERTH(), '--version'], env);
  assert.equal(viaNode.code, 0, viaNode.stderr);
  assert.match(viaNode.stderr, /Ignoring extra certs from `\/nonexistent\/berth-extra-ca\.pem`/);
  // Executed as a program, it moves the variable aside before node starts.
  const direct = await run(BERTH(), ['--version'], env);
  assert.equal(direct.code, 0, direct.stderr);
  assert.doesNotMatch(direct.stderr, /Ignoring extra certs/);
  assert.match(direct.stdout, /\d+\.\d+/);
  // The daemon too (its node flags are checked in the next test); the bad flag then stops it.
  const daemon = await run(BERTH(), ['daemon', '--no-such-flag'], env);
  assert.notEqual(daemon.code, 0);
  assert.doesNotMatch(daemon.stderr, /Ignoring extra certs/);
  assert.match(daemon.stderr, /unknown flag: --no-such-flag/);
});

/** Start `bin/berth ARGS` as a program and read its node's command line and environment once it runs. */
async function nodeOf(args: string[], env: Record<string, string>): Promise<{ argv: string[]; environ: string[]; stop: () => Promise<void> }> {
  const p = spawn(BERTH(), args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: 'ignore' });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (argv.some((a) => a.endsWith('/bin/berth')) && !argv[0]!.endsWith('sh')) {
      return { argv, environ: readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0'), stop: async () => { p.kill('SIGTERM'); await exited; } };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  p.kill('SIGKILL');
  throw new Error('bin/berth did not start node');
}

test('bin/berth: no V8 flags for CLI commands; the daemon gets its heap flags', { skip: process.getuid?.() !== 0 && 'the daemon needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bin-'));
  try {
    const env = { NODE_EXTRA_CA_CERTS: join(dir, 'none.pem') };
    // A long-running CLI command: `registry serve`.
    const cli = await nodeOf(['registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'reg')], env);
    await cli.stop();
    // `--` ends node's own options: node 20 would read an --env-file among ours.
    assert.deepEqual(cli.argv.slice(1, 4), ['--', BERTH(), 'registry'], cli.argv.join(' '));
    assert.ok(cli.environ.includes(`BERTH_EXTRA_CA_CERTS=${join(dir, 'none.pem')}`));
    assert.ok(!cli.environ.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')));
    assert.ok(cli.environ.includes('MALLOC_ARENA_MAX=2'));
    const d = await nodeOf(['daemon', '--root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--host', `unix://${join(dir, 's.sock')}`], env);
    // Stopped once it serves, so its shutdown is the orderly one (nothing half made on the host).
    for (let i = 0; i < 500 && !existsSync(join(dir, 's.sock')); i++) await new Promise((r) => setTimeout(r, 20));
    await d.stop();
    assert.deepEqual(d.argv.slice(1, 5), ['--max-semi-space-size=1', '--expose-gc', '--', BERTH()], d.argv.join(' '));
    assert.ok(d.environ.includes(`BERTH_EXTRA_CA_CERTS=${join(dir, 'none.pem')}`));
    assert.ok(!d.environ.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')));
    assert.ok(d.environ.includes('MALLOC_ARENA_MAX=2'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extraCaList: the bundled roots plus the file, only when NODE_EXTRA_CA_CERTS was moved aside', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-extra-ca-'));
  try {
    const file = join(dir, 'ca.pem');
    const pem = (n: number) => `-----BEGIN CERTIFICATE-----\nMIIB${n}AAAA\n-----END CERTIFICATE-----\n`;
    writeFileSync(file, `junk before\n${pem(1)}between\n${pem(2)}`);
    const list = extraCaList({ BERTH_EXTRA_CA_CERTS: file });
    assert.equal(list?.length, rootCertificates.length + 2);
    assert.deepEqual(list!.slice(-2), [pem(1).trim(), pem(2).trim()]);
    // node read the file itself, or nothing was moved aside: node's own store is right.
    assert.equal(extraCaList({ BERTH_EXTRA_CA_CERTS: file, NODE_EXTRA_CA_CERTS: file }), undefined);
    assert.equal(extraCaList({ BERTH_EXTRA_CA_CERTS: '' }), undefined);
    assert.equal(extraCaList({}), undefined);
    // Unreadable: node's own roots, as node itself does with a bad NODE_EXTRA_CA_CERTS.
    assert.equal(extraCaList({ BERTH_EXTRA_CA_CERTS: join(dir, 'missing.pem') }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TLS to a server signed by the moved-aside CA: registry client and fetch trust it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-extra-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'),
      '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  } catch { t.skip('openssl not available'); return; }
  // The token server speaks TLS (the registry itself is on loopback, which the client reaches over
  // plain HTTP, as Docker does): the client's bearer-token fetch is its TLS connection here.
  const tls = https.createServer({ cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
    if (req.url?.startsWith('/token')) { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ token: 'from-tls' })); return; }
    res.end('plain fetch trusted');
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  t.after(() => tls.close());
  const tlsHost = `127.0.0.1:${(tls.address() as AddressInfo).port}`;
  const registry = http.createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer from-tls') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="https://${tlsHost}/token",service="test"`);
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: 'demo', tags: ['trusted'] }));
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  t.after(() => registry.close());
  const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  const dist = (p: string) => pathToFileURL(join(repoRoot(), 'dist', 'src', p)).href;
  // A fresh process: the variables are read at start, as in the daemon.
  const script = `
    const { trustedFetch } = await import(${JSON.stringify(dist('util/tls-trust.js'))});
    const { RegistryClient } = await import(${JSON.stringify(dist('registry/client/index.js'))});
    const c = new RegistryClient({ useConfigFile: false });
    try { console.log((await c.listTags(${JSON.stringify(host)}, 'demo')).join(',')); } finally { await c.close(); }
    console.log(await (await trustedFetch('https://${tlsHost}/')).text());`;
  const withCa = await run(process.execPath, ['--input-type=module', '-e', script], { BERTH_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
  assert.equal(withCa.code, 0, withCa.stderr);
  assert.equal(withCa.stdout, 'trusted\nplain fetch trusted\n');
  // The same without the certificate: refused.
  const without = await run(process.execPath, ['--input-type=module', '-e', script], {});
  assert.notEqual(without.code, 0);
  assert.match(without.stderr, /self[- ]signed certificate|unable to verify|certificate/i);
});
