// The first start's preparation begins right after create (engine/containers/service.ts,
// prepareAhead). Whatever happens between create and start must still be what the start sees, and
// a container that is only created, removed, or left alone must not keep a mount or a namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { missing, setup, uniq, type Env } from './harness.js';

const skip = missing();

/** Mounts on the container's rootfs, and its pinned network namespaces. */
async function held(env: Env, id: string): Promise<{ mounts: number; netns: string[] }> {
  const d = env.daemon!;
  const rootfs = join(d.root, 'containers', id, 'rootfs');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === rootfs).length;
  const netns = (await fsp.readdir(join(d.execRoot, 'netns')).catch(() => [] as string[])).filter((n) => n.startsWith(id));
  return { mounts, netns };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `held` until `ok` (up to 5 s); returns the last reading. */
async function until(env: Env, id: string, ok: (h: { mounts: number; netns: string[] }) => boolean) {
  let h = await held(env, id);
  for (let i = 0; i < 50 && !ok(h); i++) { await sleep(100); h = await held(env, id); }
  return h;
}
const prepared = (h: { mounts: number; netns: string[] }) => h.mounts === 1 && h.netns.length === 1;
const givenBack = (h: { mounts: number; netns: string[] }) => h.mounts === 0 && h.netns.length === 0;

test('prepared ahead: a copy into the container or an update before start is what the start sees', { skip }, async () => {
  const env = await setup();
  try {
    // The image's alice is uid 1000; a passwd copied in before start makes her 2345.
    const name = uniq('ahead-cp');
    const c = await env.docker(['create', '--name', name, '--user', 'alice', env.image, 'id', '-u']);
    assert.equal(c.code, 0, c.stderr);
    const passwd = join(env.work, 'passwd');
    await fsp.writeFile(passwd, 'root:x:0:0:root:/root:/bin/sh\nalice:x:2345:2345::/home/alice:/bin/sh\n');
    const cp = await env.docker(['cp', passwd, `${name}:/etc/passwd`]);
    assert.equal(cp.code, 0, cp.stderr);
    const s = await env.docker(['start', '-a', name]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout.trim(), '2345');
    assert.equal((await env.docker(['rm', name])).code, 0);

    // A memory limit set by update between create and start reaches the container's cgroup.
    const name2 = uniq('ahead-upd');
    const c2 = await env.docker(['create', '--name', name2, env.image, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
    assert.equal(c2.code, 0, c2.stderr);
    const u = await env.docker(['update', '--memory', '64m', '--memory-swap', '128m', name2]);
    assert.equal(u.code, 0, u.stderr);
    const s2 = await env.docker(['start', '-a', name2]);
    assert.equal(s2.code, 0, s2.stderr);
    assert.equal(s2.stdout.trim(), String(64 * 1024 * 1024));
    assert.equal((await env.docker(['rm', name2])).code, 0);
  } finally {
    await env.close();
  }
});

test('prepared ahead: given back on rm, after its wait, and at daemon stop; a late start still works', { skip: skip ?? (process.env.BERTH_TEST_DOCKER_HOST ? 'needs its own daemon' : undefined) }, async () => {
  const env = await setup();
  try {
    // Removed right after create: nothing stays mounted, no namespace stays pinned.
    const a = await env.docker(['create', env.image, 'true']);
    assert.equal(a.code, 0, a.stderr);
    const idA = a.stdout.trim();
    assert.ok(prepared(await until(env, idA, prepared)), 'rootfs mounted and namespace pinned after create');
    // Its init layer is the root's shared one (no per-container copy made at create).
    assert.equal(existsSync(join(env.daemon!.root, 'containers', idA, 'init')), false);
    assert.ok(statSync(join(env.daemon!.root, 'init-layer-2', 'dev')).isDirectory());
    assert.equal((await env.docker(['rm', idA])).code, 0);
    assert.deepEqual(await held(env, idA), { mounts: 0, netns: [] });

    // Left alone: the preparation is given back after its wait (2 s); the start prepares again. A
    // --rm container's overlay is mounted volatile, and it must mount again at that start.
    for (const [flags, cmd, want] of [
      [[], ['sh', '-c', 'grep -c eth0: /proc/net/dev; cat /etc/hostname'], (id: string) => `1\n${id.slice(0, 12)}\n`],
      [['--rm'], ['echo', 'volatile'], () => 'volatile\n'],
    ] as const) {
      const b = await env.docker(['create', ...flags, env.image, ...cmd]);
      assert.equal(b.code, 0, b.stderr);
      const id = b.stdout.trim();
      assert.ok(prepared(await until(env, id, prepared)));
      assert.deepEqual(await until(env, id, givenBack), { mounts: 0, netns: [] });
      const s = await env.docker(['start', '-a', id]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, want(id));
    }
    assert.doesNotMatch(env.daemon!.logs(), /overlay mount failed/);

    // A burst of creates prepares at most 8 ahead; all of them start, and rm gives everything back.
    const burst = await Promise.all(Array.from({ length: 12 }, () => env.docker(['create', env.image, 'true'])));
    const ids = burst.map((r) => { assert.equal(r.code, 0, r.stderr); return r.stdout.trim(); });
    await sleep(300);
    const readings = await Promise.all(ids.map((id) => held(env, id)));
    assert.ok(readings.filter(prepared).length <= 8, JSON.stringify(readings));
    for (const id of ids.slice(0, 3)) assert.equal((await env.docker(['start', '-a', id])).code, 0);
    assert.equal((await env.docker(['rm', ...ids])).code, 0);
    for (const id of ids) assert.deepEqual(await held(env, id), { mounts: 0, netns: [] });

    // Stopped daemon: a container created just before gives its preparation back too.
    const c = await env.docker(['create', env.image, 'true']);
    assert.equal(c.code, 0, c.stderr);
    const idC = c.stdout.trim();
    assert.ok(prepared(await until(env, idC, prepared)));
    await env.daemon!.stop();
    assert.deepEqual(await held(env, idC), { mounts: 0, netns: [] });
  } finally {
    await env.close();
  }
});
