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
  // Without a registry client the engine still serves local images; registry calls then fail.
  const r = await load(regSpec).catch((e: unknown) => ({ RegistryClient: class { constructor() { throw e; } } }));
  const ContentStore = c.ContentStore as new (root: string) => ContentStoreLike;
  const Snapshotter = s.Snapshotter as new (root: string) => SnapshotterLike;
  const RegistryClient = r.RegistryClient as new (opts: unknown) => RegistryLike;
  return {
    content: new ContentStore(join(root, 'content')),
    snapshots: new Snapshotter(join(root, 'snapshots')),
    registry: (opts) => new RegistryClient(opts),
  };
}
