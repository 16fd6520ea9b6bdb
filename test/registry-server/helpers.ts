// Shared helpers for the registry server tests: a real server on a free loopback port, raw HTTP
// requests (node:http does not normalise paths, so traversal attempts reach the server verbatim).
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRegistry, type RegistryOptions, type Registry } from '../../src/registry/server/main.js';

export interface Res { status: number; headers: http.IncomingHttpHeaders; body: Buffer; json(): any }

export interface TestRegistry { reg: Registry; root: string; port: number; base: string; close(): Promise<void> }

export async function startRegistry(opts: Partial<RegistryOptions> = {}): Promise<TestRegistry> {
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), 'berth-reg-test-')));
  const reg = createRegistry({ accessLog: false, ...opts, root });
  await new Promise<void>((r) => reg.server.listen(0, '127.0.0.1', r));
  const port = (reg.server.address() as AddressInfo).port;
  return {
    reg, root, port, base: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    async close() { await reg.close(); if (!opts.root) await rm(root, { recursive: true, force: true }); },
  };
}

export function request(port: number, method: string, path: string, opts: { headers?: Record<string, string | number>; body?: Buffer | string; tls?: boolean } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const mod = opts.tls ? https : http;
    const r = mod.request({ host: '127.0.0.1', port, method, path, headers: opts.headers, agent: false, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (opts.body !== undefined) r.end(opts.body); else r.end();
  });
}

export const sha256 = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function errCode(r: Res): string | undefined {
  try { return r.json().errors?.[0]?.code; } catch { return undefined; }
}

/** Monolithic POST?digest= upload. */
export async function pushBlob(port: number, repo: string, data: Buffer | string, headers: Record<string, string> = {}): Promise<string> {
  const d = sha256(data);
  const r = await request(port, 'POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, { body: data, headers: { 'Content-Type': 'application/octet-stream', ...headers } });
  if (r.status !== 201) throw new Error(`push blob: ${r.status} ${r.body}`);
  return d;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** Push a config and a layer, then an image manifest; returns its digest and body. */
export async function pushImage(port: number, repo: string, tag: string, opts: { mediaType?: string; layer?: string; subject?: { digest: string; size: number; mediaType: string }; artifactType?: string; headers?: Record<string, string> } = {}): Promise<{ digest: string; body: string; config: string; layer: string }> {
  const mt = opts.mediaType ?? OCI_MANIFEST;
  const cfgBody = JSON.stringify({ architecture: 'amd64', os: 'linux', tag });
  const layerBody = opts.layer ?? `layer-of-${repo}-${tag}`;
  const config = await pushBlob(port, repo, cfgBody, opts.headers);
  const layer = await pushBlob(port, repo, layerBody, opts.headers);
  const docker = mt === DOCKER_MANIFEST;
  const m: Record<string, unknown> = {
    schemaVersion: 2, mediaType: mt,
    config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: config, size: Buffer.byteLength(cfgBody) },
    layers: [{ mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: Buffer.byteLength(layerBody) }],
  };
  if (opts.subject) m.subject = opts.subject;
  if (opts.artifactType) m.artifactType = opts.artifactType;
  const body = JSON.stringify(m);
  const r = await request(port, 'PUT', `/v2/${repo}/manifests/${tag}`, { body, headers: { 'Content-Type': mt, ...opts.headers } });
  if (r.status !== 201) throw new Error(`push manifest: ${r.status} ${r.body}`);
  return { digest: sha256(body), body, config, layer };
}
