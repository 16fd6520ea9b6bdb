// docker-py (Debian's python3-docker, installed by scripts/setup.sh) against Berth, unchanged: the
// flow in py/docker_py_flow.py prints what each call returned; the values are Docker's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { missing, setup, uniq, type Env } from '../containers/harness.js';

const PYTHON = '/usr/bin/python3';
const hasDockerPy = spawnSync(PYTHON, ['-c', 'import docker'], { stdio: 'ignore' }).status === 0;
const skip = missing() ?? (hasDockerPy ? undefined : 'python3-docker not installed');
const here = fileURLToPath(new URL('.', import.meta.url));
// Compiled tests run from dist/test/interop; the script stays in the source tree.
const script = join(resolve(here, here.includes('/dist/') ? '../../../test/interop' : '.'), 'py', 'docker_py_flow.py');
let env: Env;

before(async () => { if (!skip) env = await setup(); });
after(async () => { await env?.close(); });

test('docker-py: run, detached run with ports/env/labels, logs, exec, archives, top, stats, list, networks, kill/wait, stop, remove', { skip }, async () => {
  const name = uniq('py');
  const out = await new Promise<string>((res, rej) => {
    execFile(PYTHON, [script, env.host, env.image, name], { timeout: 120_000 }, (err, stdout, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout)));
  });
  const s = JSON.parse(out) as Record<string, unknown>;
  assert.equal(s.ping, true);
  assert.equal(s.run, 'out\n', 'stdout only, as docker-py asks by default');
  assert.deepEqual({ ...(s.run_exit as object), text: undefined }, { error: 'ContainerError', status: null, text: undefined });
  assert.match((s.run_exit as { text: string }).text, /returned non-zero exit status 3/);
  assert.match(String(s.run_tty), /^\/dev\/pts\/\d+$/);
  assert.equal(s.status, 'running');
  assert.deepEqual(s.labels, { 'berth.test': 'py' });
  assert.equal(s.port_ip, '127.0.0.1');
  assert.equal(s.logs, 'started\n');
  assert.deepEqual(s.exec, [4, 'bar\n']);
  assert.deepEqual(s.exec_demux, [0, 'o\n', 'e\n']);
  assert.equal(s.exec_user_workdir, '1000\n/tmp\n');
  assert.equal(s.put_archive, true);
  assert.deepEqual(s.get_archive, ['put.txt', 9, 'put-data\n']);
  assert.equal((s.get_archive_missing as { status: number }).status, 404);
  assert.match((s.get_archive_missing as { text: string }).text, /Could not find the file \/berth-no-such in container/);
  assert.deepEqual(s.top, ['UID', 'PID']);
  assert.deepEqual(s.stats, ['cpu_stats', 'memory_stats', 'networks', 'pids_stats']);
  assert.deepEqual(s.list_label, [name]);
  assert.deepEqual(s.networks, ['bridge', 'host', 'none']);
  assert.equal(s.kill_wait, 143);
  assert.equal(s.restart, 'running');
  assert.equal(s.stop, 'exited');
  assert.equal(s.remove, null);
  assert.deepEqual({ error: (s.get_removed as { error: string }).error, status: (s.get_removed as { status: number }).status }, { error: 'NotFound', status: 404 });
  assert.equal(s.image, 'linux');
});
