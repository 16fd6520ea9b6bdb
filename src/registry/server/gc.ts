// Mark and sweep. Roots: every tag, plus anything written within the grace period (so a push
// between its blob uploads and its manifest PUT is never swept while the server keeps running).
// Referrers of a live manifest are live. Sweep order: manifests' revision links, then blobs, then
// layer links to blobs that are gone.
import type { StorageDriver } from './storage.js';
import { isDigest } from '../../util/digest.js';
import { isRepoName, isTag } from './names.js';
import { blobPath, repoDir } from './store.js';

export interface GcOptions { dryRun?: boolean; graceMs?: number; now?: number; log?: (msg: string) => void }
export interface GcResult { repositories: number; markedBlobs: number; deletedBlobs: string[]; deletedManifests: string[]; deletedLinks: number; deletedUploads: number }

async function listRepos(d: StorageDriver): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string, name: string, depth: number): Promise<void> => {
    if (depth > 64) return;
    for (const e of await d.list(rel)) {
      if (e === '_manifests' || e === '_layers') { if (isRepoName(name) && !out.includes(name)) out.push(name); continue; }
      if (e.startsWith('_') || e.startsWith('.')) continue;
      if ((await d.stat(`${rel}/${e}`))?.isDir) await walk(`${rel}/${e}`, name ? `${name}/${e}` : e, depth + 1);
    }
  };
  await walk('repositories', '', 0);
  return out;
}

async function listDigests(d: StorageDriver, dir: string): Promise<{ digest: string; mtimeMs: number }[]> {
  const out: { digest: string; mtimeMs: number }[] = [];
  for (const alg of await d.list(dir)) {
    for (const hex of await d.list(`${dir}/${alg}`)) {
      const dg = `${alg}:${hex}`;
      if (!isDigest(dg)) continue;
      const st = await d.stat(`${dir}/${alg}/${hex}`);
      if (st) out.push({ digest: dg, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}

export async function garbageCollect(d: StorageDriver, opts: GcOptions = {}): Promise<GcResult> {
  const now = opts.now ?? Date.now();
  const grace = opts.graceMs ?? 3600_000;
  const log = opts.log ?? (() => {});
  const recent = (mtimeMs: number) => now - mtimeMs < grace;
  const liveBlobs = new Set<string>();
  const res: GcResult = { repositories: 0, markedBlobs: 0, deletedBlobs: [], deletedManifests: [], deletedLinks: 0, deletedUploads: 0 };
  const repos = await listRepos(d);
  res.repositories = repos.length;
  const sweepManifests: { repo: string; digest: string }[] = [];

  for (const repo of repos) {
    const revs = await listDigests(d, `${repoDir(repo)}/_manifests/revisions`);
    const revSet = new Set(revs.map((r) => r.digest));
    const live = new Set<string>();
    const queue: string[] = [];
    const markManifest = (dg: string) => { if (revSet.has(dg) && !live.has(dg)) { live.add(dg); queue.push(dg); } };
    for (const t of await d.list(`${repoDir(repo)}/_manifests/tags`)) {
      if (!isTag(t)) continue;
      const dg = (await d.read(`${repoDir(repo)}/_manifests/tags/${t}`))?.toString('utf8').trim();
      if (dg && isDigest(dg)) markManifest(dg);
    }
    for (const r of revs) if (recent(r.mtimeMs)) markManifest(r.digest);
    while (queue.length) {
      const dg = queue.shift()!;
      liveBlobs.add(dg);
      const body = await d.read(blobPath(dg));
      if (body) {
        let m: Record<string, unknown> | undefined;
        try { m = JSON.parse(body.toString('utf8')) as Record<string, unknown>; } catch { m = undefined; }
        const descs = (x: unknown) => (Array.isArray(x) ? x : x ? [x] : []) as { digest?: unknown }[];
        if (m) {
          for (const c of descs(m.manifests)) if (isDigest(c.digest)) markManifest(c.digest);
          for (const b of [...descs(m.config), ...descs(m.layers)]) if (isDigest(b.digest)) liveBlobs.add(b.digest);
        }
      }
      // Referrers of a live manifest are live.
      const [alg, hex] = dg.split(':') as [string, string];
      for (const n of await d.list(`${repoDir(repo)}/_referrers/${alg}/${hex}`)) {
        const i = n.indexOf('-');
        const rd = `${n.slice(0, i)}:${n.slice(i + 1)}`;
        if (isDigest(rd)) markManifest(rd);
      }
    }
    for (const r of revs) if (!live.has(r.digest)) sweepManifests.push({ repo, digest: r.digest });
  }

  for (const { repo, digest } of sweepManifests) {
    log(`manifest ${repo}@${digest} is unreferenced`);
    res.deletedManifests.push(`${repo}@${digest}`);
    if (opts.dryRun) continue;
    const [alg, hex] = digest.split(':') as [string, string];
    // Drop its referrer entry (whatever subject it names), then the revision link.
    for (const a of await d.list(`${repoDir(repo)}/_referrers`)) {
      for (const s of await d.list(`${repoDir(repo)}/_referrers/${a}`)) {
        const p = `${repoDir(repo)}/_referrers/${a}/${s}/${alg}-${hex}`;
        if (await d.stat(p)) await d.remove(p);
      }
    }
    await d.remove(`${repoDir(repo)}/_manifests/revisions/${alg}/${hex}`);
  }

  res.markedBlobs = liveBlobs.size;
  const gone = new Set<string>();
  for (const b of await listDigests(d, 'blobs')) {
    if (liveBlobs.has(b.digest) || recent(b.mtimeMs)) continue;
    log(`blob ${b.digest} is unreferenced`);
    res.deletedBlobs.push(b.digest);
    gone.add(b.digest);
    if (!opts.dryRun) await d.remove(blobPath(b.digest));
  }
  if (!opts.dryRun) {
    for (const repo of repos) {
      for (const l of await listDigests(d, `${repoDir(repo)}/_layers`)) {
        if (!gone.has(l.digest)) continue;
        const [alg, hex] = l.digest.split(':') as [string, string];
        await d.remove(`${repoDir(repo)}/_layers/${alg}/${hex}`);
        res.deletedLinks++;
      }
    }
    for (const id of await d.list('uploads')) {
      const st = await d.stat(`uploads/${id}/data`) ?? await d.stat(`uploads/${id}`);
      if (st && !recent(st.mtimeMs)) { await d.remove(`uploads/${id}`); res.deletedUploads++; }
    }
  }
  return res;
}
