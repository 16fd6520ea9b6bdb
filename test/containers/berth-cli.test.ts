// The `berth` CLI's container commands against the daemon: run (--rm, -d, -i), exit codes, ps,
// logs, exec, stop, rm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missing, setup, uniq, type Env, type Run } from './harness.js';

const skip = missing();
let env: Env;

before(async () => { if (!skip) env = await setup(); });
after(async () => { await env?.close(); });

const here = fileURLToPath(new URL('.', import.meta.url));
const fromDist = here.includes(`${'/'}dist${'/'}`);
const repo = resolve(here, fromDist ? '../../..' : '../..');

function berth(args: string[], input?: string): Promise<Run> {
  const argv = fromDist
    ? [join(repo, 'bin/berth'), ...args]
    : ['--import', 'tsx', join(repo, 'test/containers/berth-entry.ts'), ...args];
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, argv, { cwd: repo, env: { ...process.env, BERTH_HOST: env.host, DOCKER_HOST: env.host }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => { stderr += `\n[killed after 30 s: berth ${args.join(' ')}]`; c.kill('SIGKILL'); }, 30_000);
    c.on('error', rej);
    c.on('close', (code) => { clearTimeout(t); res({ code: code ?? -1, stdout, stderr }); });
    c.stdin.end(input);
  });
}

test('berth run --rm: output, exit codes, stdin', { skip }, async () => {
  const hi = await berth(['run', '--rm', env.image, 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  const five = await berth(['run', '--rm', env.image, 'sh', '-c', 'echo e >&2; exit 5']);
  assert.equal(five.code, 5);
  assert.equal(five.stderr, 'e\n');
  const nf = await berth(['run', '--rm', env.image, 'no-such-binary']);
  assert.equal(nf.code, 127);
  const cat = await berth(['run', '--rm', '-i', env.image, 'cat'], 'piped\n');
  assert.equal(cat.stdout, 'piped\n');
});

test('berth run -d, ps, logs, exec, stop, rm', { skip }, async () => {
  const name = uniq('bcli');
  try {
    const d = await berth(['run', '-d', '--name', name, '-e', 'X=1', env.image, 'sh', '-c', 'echo hello; trap "exit 0" TERM; while true; do sleep 0.1; done']);
    assert.equal(d.code, 0, d.stderr);
    const ps = await berth(['ps', '--format', '{{.Names}} {{.State}}']);
    assert.match(ps.stdout, new RegExp(`^${name} running$`, 'm'));
    const insp = await berth(['inspect', '-f', '{{.State.Status}} {{.Name}}', name]);
    assert.equal(insp.stdout, `running /${name}\n`, insp.stderr);
    const ex = await berth(['exec', name, 'sh', '-c', 'echo $X; exit 3']);
    assert.equal(ex.code, 3);
    assert.equal(ex.stdout, '1\n');
    const stop = await berth(['stop', name]);
    assert.equal(stop.code, 0, stop.stderr);
    const logs = await berth(['logs', name]);
    assert.equal(logs.stdout, 'hello\n');
    const wait = await berth(['wait', name]);
    assert.equal(wait.stdout, '0\n');
    assert.equal((await berth(['rm', name])).code, 0);
    const gone = await berth(['ps', '-a', '-q', '--filter', `name=${name}`]);
    assert.equal(gone.stdout.trim(), '');
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('berth run resource and security flags reach the container', { skip }, async () => {
  const r = await berth(['run', '--rm', '--ulimit', 'nofile=100:200', '--shm-size', '16m', '--sysctl', 'net.ipv4.ip_forward=1',
    '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--cpuset-cpus', '0', '--add-host', 'foo:1.2.3.4',
    '--group-add', '10', env.image, 'sh', '-c',
    'ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1; cat /proc/sys/net/ipv4/ip_forward; grep foo /etc/hosts; grep ^Groups /proc/self/status']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], '100');
  assert.equal(lines[1], '200');
  assert.match(lines[2]!, /^shm\s+16384\s/);
  assert.equal(lines[3], '1');
  assert.equal(lines[4], '1.2.3.4\tfoo');
  assert.match(lines[5]!, /^Groups:\s+10\s*$/);
  const name = uniq('res');
  const c = await berth(['create', '--name', name, '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--cpuset-cpus', '0', env.image, 'true']);
  assert.equal(c.code, 0, c.stderr);
  const hc = await berth(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}}', name]);
  assert.equal(hc.stdout.trim(), `${64 * 1024 * 1024} ${128 * 1024 * 1024} 512 0`);
  await berth(['rm', name]);
  const bad = await berth(['run', '--rm', '--ulimit', 'bogus', env.image, 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "bogus" for "--ulimit" flag/);
});
