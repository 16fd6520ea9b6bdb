// The store and registry parts the image service needs, as small interfaces. The real modules
// (store/content, store/snapshots, registry/client) satisfy them; the engine wires them in.
import type { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';

export interface IngestLike {
  offset: number;
  /** The blob is already committed: nothing to write. */
  done?: boolean;
  writable(): Writable;
  commit(): Promise<unknown>;
  abort(): Promise<unknown>;
  /** Stop but keep the partial data for a later resume. */
  suspend?(): Promise<unknown>;
}

export interface ContentStoreLike {
  init(): Promise<unknown>;
  has(digest: string): Promise<boolean>;
  size(digest: string): Promise<number | undefined>;
  path(digest: string): string;
  createReadStream(digest: string): Readable;
  readBuffer(digest: string): Promise<Buffer>;
  writeBuffer(data: Buffer, expected?: string): Promise<unknown>;
  ingest(expected: string, size?: number): Promise<IngestLike>;
  delete(digest: string): Promise<unknown>;
  list(): Promise<Iterable<string> | AsyncIterable<string> | unknown>;
}

export interface SnapshotterLike {
  init(): Promise<unknown>;
  has(chainId: string): Promise<boolean>;
  path(chainId: string): string;
  /** `opts.ready`: extract now, commit only once it settles (see store/snapshots ApplyOptions). */
  apply(chainId: string, parent: string | undefined, tar: Readable, expectedDiffId?: string, opts?: { ready?: Promise<unknown>; gzip?: boolean }): Promise<{ diffId: string; size: number }>;
  remove(chainId: string): Promise<unknown>;
  list(): Promise<unknown>;
  usage?(chainId: string): Promise<unknown>;
  info?(chainId: string): Promise<{ size: number; usage?: number } | undefined>;
}

export interface ManifestResult { digest: string; mediaType: string; body: Buffer }

export interface RegistryLike {
  getManifest(ref: string): Promise<ManifestResult>;
  getBlob(domain: string, repo: string, digest: string, opts?: { offset?: number }): Promise<Readable>;
  hasBlob(domain: string, repo: string, digest: string): Promise<boolean>;
  mountBlob(domain: string, repo: string, digest: string, fromRepo: string): Promise<boolean>;
  pushBlob(domain: string, repo: string, digest: string, size: number, open: () => Readable | Promise<Readable>): Promise<unknown>;
  putManifest(ref: string, mediaType: string, body: Buffer): Promise<unknown>;
  listTags?(domain: string, repo: string): Promise<string[]>;
  checkAuth?(domain: string, creds: { username?: string; password?: string; identitytoken?: string }): Promise<unknown>;
  /** Release connections held by this client. */
  close?(): Promise<unknown>;
}

export interface RegistryOptions {
  insecureRegistries: string[];
  credentials?: { username?: string; password?: string; identitytoken?: string; registrytoken?: string; serveraddress?: string };
}

export type RegistryFactory = (opts: RegistryOptions) => RegistryLike;

/** Chain IDs per the OCI image spec: chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function computeChainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    if (out.length === 0) out.push(d);
    else out.push('sha256:' + createHash('sha256').update(`${out[out.length - 1]} ${d}`).digest('hex'));
  }
  return out;
}
