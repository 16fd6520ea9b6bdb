// Shared pieces of the CLI/SDK integration tests: run bin/berth, build small image fixtures
// (docker-archive tars and registry uploads) in memory.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import tar from 'tar-stream';

export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin', 'berth'))) return d;
    d = resolve(d, '..');
  }
  throw new Error('repo root not found');
}

export const BERTH = () => join(repoRoot(), 'bin', 'berth');

/** bin/berth needs the compiled CLI. */
export function cliBuilt(): boolean {
  return existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js'));
}

export interface RunResult { code: number; stdout: string; stderr: string; out: Buffer }

/**
 * Run bin/berth with a clean environment plus `env`; stdin from `input` (or closed). `bin`: another
 * installation's bin/berth; `nodeArgs`: flags for node itself.
 */
export function berth(args: string[], opts: { env?: Record<string, string>; input?: Buffer | string; bin?: string; nodeArgs?: string[] } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...opts.env };
    const p = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.bin ?? BERTH(), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      const o = Buffer.concat(out);
      resolvePromise({ code: code ?? -1, stdout: o.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), out: o });
    });
    p.stdin.on('error', () => { /* the command may not read stdin */ });
    p.stdin.end(opts.input);
  });
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A tar holding the given files (name → content). */
export async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith('/')) pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(1_700_000_000_000) });
    else pack.entry({ name, mode: 0o644, mtime: new Date(1_700_000_000_000) }, content);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface Fixture {
  layer: Buffer;
  config: Buffer;
  configDigest: string;
  /** Image ID as docker reports it (sha256 of the config). */
  id: string;
}

/** A one-layer image (a file /hello, CMD ["/hello"]), with a history entry to show. */
export async function fixtureImage(marker = 'hello'): Promise<Fixture> {
  const layer = await tarOf({ 'etc/': '', 'hello': `${marker}\n` });
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2023-11-14T22:13:20Z',
    config: { Cmd: ['/hello'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'org.example.marker': marker } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
    history: [{ created: '2023-11-14T22:13:20Z', created_by: `/bin/sh -c #(nop) ADD file:${marker} in / ` }],
  }));
  const hex = sha256(config);
  return { layer, config, configDigest: `sha256:${hex}`, id: `sha256:${hex}` };
}

/** docker-archive (`docker save` format) of the fixture tagged with `repoTags`. */
export async function dockerArchive(f: Fixture, repoTags: string[]): Promise<Buffer> {
  const hex = f.configDigest.slice(7);
  const layerDir = sha256(f.layer);
  return tarOf({
    [`${hex}.json`]: f.config,
    [`${layerDir}/`]: '',
    [`${layerDir}/layer.tar`]: f.layer,
    'manifest.json': JSON.stringify([{ Config: `${hex}.json`, RepoTags: repoTags, Layers: [`${layerDir}/layer.tar`] }]),
  });
}

function req(host: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((res, rej) => {
    const r = http.request(`http://${host}${path}`, { method, headers }, (resp) => {
      let text = '';
      resp.on('data', (c: Buffer) => { text += c; });
      resp.on('end', () => res({ status: resp.statusCode ?? 0, headers: resp.headers, body: text }));
    });
    r.on('error', rej);
    r.end(body);
  });
}

/** Upload the fixture to a registry as a docker v2 image (gzip layer) under repo:tag. */
export async function pushFixture(host: string, repo: string, tag: string, f: Fixture): Promise<string> {
  const gz = gzipSync(f.layer);
  for (const blob of [gz, f.config]) {
    const d = `sha256:${sha256(blob)}`;
    const r = await req(host, 'POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, blob, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.length) });
    if (r.status !== 201) {
      // Registries may ignore the monolithic form: fall back to POST + PUT.
      const start = await req(host, 'POST', `/v2/${repo}/blobs/uploads/`);
      if (start.status !== 202) throw new Error(`blob upload: ${start.status} ${start.body}`);
      const loc = new URL(String(start.headers.location), `http://${host}`);
      loc.searchParams.set('digest', d);
      const put = await req(host, 'PUT', loc.pathname + loc.search, blob, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.length) });
      if (put.status !== 201) throw new Error(`blob put: ${put.status} ${put.body}`);
    }
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: f.config.length, digest: f.configDigest },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: gz.length, digest: `sha256:${sha256(gz)}` }],
  });
  const r = await req(host, 'PUT', `/v2/${repo}/manifests/${tag}`, manifest, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' });
  if (r.status !== 201) throw new Error(`manifest put: ${r.status} ${r.body}`);
  return `sha256:${sha256(manifest)}`;
}

/** Entries of a tar buffer. */
export async function tarEntries(buf: Buffer): Promise<string[]> {
  const ex = tar.extract();
  const names: string[] = [];
  ex.on('entry', (h, stream, next) => { names.push(h.name); stream.on('end', next); stream.resume(); });
  const done = new Promise<void>((r, j) => { ex.on('finish', () => r()); ex.on('error', j); });
  ex.end(buf);
  await done;
  return names;
}
