// Loads the store and registry modules and adapts them to the small interfaces in images/deps.ts.
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import type { ContentStoreLike, RegistryFactory, RegistryLike, SnapshotterLike } from './images/deps.js';

async function load(spec: string): Promise<Record<string, unknown>> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    throw new BerthError('ERR_UNAVAILABLE', `engine part ${spec} could not be loaded: ${(e as Error).message}`, { cause: e });
  }
}

export async function loadParts(root: string): Promise<{ content: ContentStoreLike; snapshots: SnapshotterLike; registry: RegistryFactory }> {
  // Paths kept in variables: the modules are written in parallel with this one.
  const contentSpec = '../store/content/index.js';
  const snapSpec = '../store/snapshots/index.js';
  const regSpec = '../registry/client/index.js';
  const [c, s] = await Promise.all([load(contentSpec), load(snapSpec)]);
  const ContentStore = c.ContentStore as new (root: string) => ContentStoreLike;
  const Snapshotter = s.Snapshotter as new (root: string) => SnapshotterLike;
  // The registry client (and undici, ~20 MB resident) loads on the first registry call, so an idle
  // daemon stays small. Without a registry client the engine still serves local images; registry calls fail.
  let mod: Promise<new (opts: unknown) => RegistryLike> | undefined;
  const clientClass = () => (mod ??= load(regSpec).then((r) => r.RegistryClient as new (opts: unknown) => RegistryLike));
  return {
    content: new ContentStore(join(root, 'content')),
    snapshots: new Snapshotter(join(root, 'snapshots')),
    registry: (opts) => lazyRegistry(async () => new (await clientClass())(opts)),
  };
}

/** A RegistryLike that creates the real client on its first call. */
function lazyRegistry(create: () => Promise<RegistryLike>): RegistryLike {
  let client: Promise<RegistryLike> | undefined;
  const get = () => (client ??= create());
  return {
    getManifest: async (ref) => (await get()).getManifest(ref),
    getBlob: async (domain, repo, digest, opts) => (await get()).getBlob(domain, repo, digest, opts),
    hasBlob: async (domain, repo, digest) => (await get()).hasBlob(domain, repo, digest),
    mountBlob: async (domain, repo, digest, fromRepo) => (await get()).mountBlob(domain, repo, digest, fromRepo),
    pushBlob: async (domain, repo, digest, size, open) => (await get()).pushBlob(domain, repo, digest, size, open),
    putManifest: async (ref, mediaType, body) => (await get()).putManifest(ref, mediaType, body),
    listTags: async (domain, repo) => {
      const c = await get();
      if (!c.listTags) throw new BerthError('ERR_NOT_IMPLEMENTED', 'listing tags is not supported by this registry client');
      return c.listTags(domain, repo);
    },
    checkAuth: async (domain, creds) => {
      const c = await get();
      if (!c.checkAuth) throw new BerthError('ERR_NOT_IMPLEMENTED', 'registry login is not supported');
      return c.checkAuth(domain, creds);
    },
    close: async () => { if (client) await (await client.catch(() => undefined))?.close?.(); },
  };
}
