// `run --rm` and restarts with the runtime's cleanup done off the exit path: what the docker CLI
// sees must not change (exit code, output, the name free as soon as `run --rm` returns), and a
// container started again right after it exited must find its previous run cleaned up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missing, setup, uniq, type Env } from './harness.js';

const skip = missing();

test('run --rm: exit code and output, then the name is free at once', { skip }, async () => {
  const env = await setup();
  try {
    const name = uniq('rm');
    for (let i = 0; i < 3; i++) {
      const r = await env.docker(['run', '--rm', '--name', name, env.image, 'sh', '-c', `echo out${i}; echo err${i} >&2; exit 3`]);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, `out${i}\n`);
      assert.match(r.stderr, new RegExp(`err${i}`));
      // Docker's guarantee: once `run --rm` has returned, the container is gone.
      const ps = await env.docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
      assert.equal(ps.stdout.trim(), '');
    }
    const c = await env.docker(['create', '--name', name, env.image, 'true']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await env.docker(['rm', name])).code, 0);
  } finally {
    await env.close();
  }
});

test('a stopped container starts again right away (previous run cleaned up first), with its network', { skip }, async () => {
  const env = await setup();
  try {
    const name = uniq('again');
    // Each run sees its interface (the network is plumbed again for every start).
    const first = await env.docker(['run', '--name', name, env.image, 'sh', '-c', 'grep -c eth0: /proc/net/dev; exit 4']);
    assert.equal(first.code, 4, first.stderr);
    assert.equal(first.stdout, '1\n');
    for (let i = 0; i < 3; i++) {
      const s = await env.docker(['start', '-a', name]);
      assert.equal(s.code, 4, s.stderr);
      assert.equal(s.stdout, '1\n');
    }
    const inspect = await env.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
    assert.equal(inspect.stdout.trim(), 'exited 4');
    assert.equal((await env.docker(['rm', name])).code, 0);
  } finally {
    await env.close();
  }
});

test('a running container gets a pinned network namespace (SandboxKey) and an address', { skip }, async () => {
  const env = await setup();
  try {
    const name = uniq('ns');
    const r = await env.docker(['run', '-d', '--name', name, env.image, 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const key = (await env.docker(['inspect', '--format', '{{.NetworkSettings.SandboxKey}} {{.NetworkSettings.IPAddress}}', name])).stdout.trim().split(' ');
    if (env.daemon) assert.ok(key[0]!.startsWith(`${env.daemon.execRoot}/netns/`), key[0]);
    assert.match(key[1] ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    const ex = await env.docker(['exec', name, 'cat', '/proc/net/dev']);
    assert.match(ex.stdout, /eth0:/);
    assert.equal((await env.docker(['rm', '-f', name])).code, 0);
  } finally {
    await env.close();
  }
});

/** Poll `check` until it returns true (the runtime's cleanup runs in the background). */
async function eventually(check: () => boolean, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** The host end of a running container's eth0 (its peer's ifindex, looked up in /sys/class/net). */
async function hostVeth(env: Env, id: string): Promise<string> {
  const r = await env.docker(['exec', id, 'cat', '/sys/class/net/eth0/iflink']);
  assert.equal(r.code, 0, r.stderr);
  const index = r.stdout.trim();
  const name = readdirSync('/sys/class/net').find((n) => { try { return readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8').trim() === index; } catch { return false; } });
  assert.ok(name, `no host interface with ifindex ${index}`);
  return name;
}

/** Pids whose command line is exactly `argv`. */
function pidsOf(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8') === want; } catch { return false; }
  }).map(Number);
}

test('after an exit the runtime keeps nothing: runtime state and cgroups removed; without its own PID namespace, what it left running is killed', { skip }, async () => {
  const env = await setup();
  try {
    if (!env.daemon) return; // needs the daemon's exec root
    const runtime = (await env.docker(['info', '-f', '{{.DefaultRuntime}}'])).stdout.trim();
    const stateRoot = join(env.daemon.execRoot, 'runtime', runtime);
    // The container's own cgroup directories (their paths name it), from its init's /proc entry.
    const cgroupsOf = async (id: string) => {
      const pid = (await env.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
      return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').flatMap((line) => {
        const m = /^\d+:([^:]*):(.*)$/.exec(line);
        if (!m || !m[2]!.includes(id)) return [];
        const ctrl = m[1]!.replace(/^name=/, '');
        return [ctrl ? `/sys/fs/cgroup/${ctrl}${m[2]}` : `/sys/fs/cgroup/unified${m[2]}`, `/sys/fs/cgroup${m[2]}`].filter((d) => existsSync(d));
      });
    };

    // Its own PID namespace: the usual case, cleaned up without starting runc.
    const a = await env.docker(['run', '-d', env.image, 'sleep', '60']);
    assert.equal(a.code, 0, a.stderr);
    const idA = a.stdout.trim();
    const cgA = await cgroupsOf(idA);
    assert.ok(cgA.length > 0 && cgA.every((p) => existsSync(p)), cgA.join(' '));
    const vethA = await hostVeth(env, idA);
    assert.equal((await env.docker(['kill', idA])).code, 0);
    assert.equal((await env.docker(['wait', idA])).stdout.trim(), '137');
    assert.ok(await eventually(() => !existsSync(join(stateRoot, idA)) && cgA.every((p) => !existsSync(p))), `left: ${[join(stateRoot, idA), ...cgA].filter(existsSync).join(' ')}`);
    // Its veth went with its network namespace.
    assert.ok(await eventually(() => !existsSync(`/sys/class/net/${vethA}`)), `veth ${vethA} left`);

    // The host's PID namespace: a process the command left behind stays in the cgroups, so they
    // cannot simply be removed; it is killed (as Docker does) and then they go.
    const tag = String(100000 + Math.floor(Math.random() * 800000));
    const b = await env.docker(['run', '-d', '--pid', 'host', env.image, 'sh', '-c', `sleep ${tag} & sleep 1; exit 0`]);
    assert.equal(b.code, 0, b.stderr);
    const idB = b.stdout.trim();
    const cgB = await cgroupsOf(idB);
    assert.ok(cgB.length > 0, 'the cgroups of the --pid host container');
    assert.ok(await eventually(() => pidsOf(['sleep', tag]).length === 1, 5000), 'the background sleep started');
    assert.equal((await env.docker(['wait', idB])).stdout.trim(), '0');
    assert.ok(await eventually(() => pidsOf(['sleep', tag]).length === 0), 'the process left behind was killed');
    assert.ok(await eventually(() => !existsSync(join(stateRoot, idB)) && cgB.every((p) => !existsSync(p))), `left: ${[join(stateRoot, idB), ...cgB].filter(existsSync).join(' ')}`);
    for (const id of [idA, idB]) assert.equal((await env.docker(['rm', id])).code, 0);
  } finally {
    await env.close();
  }
});

test('a container whose network namespace outlives it (held from outside) still has its veth removed', { skip }, async () => {
  const env = await setup();
  let holder: ChildProcess | undefined;
  try {
    if (!env.daemon) return; // needs the daemon's namespace pins
    const r = await env.docker(['run', '-d', env.image, 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const veth = await hostVeth(env, id);
    const key = (await env.docker(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', id])).stdout.trim();
    // A process of the host's in the container's network namespace keeps the namespace alive.
    holder = spawn('nsenter', [`--net=${key}`, 'sleep', '60'], { stdio: 'ignore' });
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(holder.exitCode, null, 'the namespace holder runs');
    assert.equal((await env.docker(['rm', '-f', id])).code, 0);
    assert.ok(await eventually(() => !existsSync(`/sys/class/net/${veth}`)), `veth ${veth} left`);
    assert.equal(holder.exitCode, null, 'the namespace was still held while its veth was removed');
  } finally {
    holder?.kill('SIGKILL');
    await env.close();
  }
});
