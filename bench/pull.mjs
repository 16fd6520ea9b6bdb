// Pull of the 4-layer ~250 MB bench image from a loopback registry: Berth vs Docker vs Podman,
// side by side in one run, each removing its copy first. Also Berth's idle daemon RSS.
//   node bench/pull.mjs [REGISTRY=127.0.0.1:5555] [RUNS=5]
// Needs ../shared/peers/setup.sh and fixtures.sh REGISTRY (pushes bench/app:1).
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, have, rssKb, sh } from './lib.mjs';

const reg = process.argv[2] ?? '127.0.0.1:5555';
const runs = Number(process.argv[3] ?? 5);
const img = `${reg}/bench/app:1`;
function canWrite(dir) {
  try { accessSync(dir, constants.W_OK); return true; } catch { return false; }
}
const root = join(import.meta.dirname, '..');
// Berth's root lives next to Docker's and Podman's (/var/lib), not in /tmp: on this machine /tmp
// takes every test suite's create/delete churn, and on ext4 without a journal new inodes are slow
// in block groups holding recently freed ones, so a /tmp root measured the neighbours, not Berth.
// BERTH_BENCH_DIR overrides the parent directory.
const base = process.env.BERTH_BENCH_DIR ?? (canWrite('/var/lib') ? '/var/lib' : tmpdir());
const tmp = mkdtempSync(join(base, 'berth-bench-'));
const sock = join(tmp, 'berth.sock');
// Started as users start it (bin/berth gives a daemon's node its flags).
const daemon = spawn(join(root, 'bin/berth'), ['daemon', '--root', join(tmp, 'root'), '--exec-root', join(tmp, 'run'), '--host', `unix://${sock}`], { stdio: 'ignore' });
const berth = `${process.execPath} ${join(root, 'bin/berth')} -H unix://${sock}`;
try {
  for (let i = 0; i < 100 && sh(`${berth} version`, { allowFail: true }).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`berth daemon idle RSS: ${(rssKb(daemon.pid) / 1024).toFixed(1)} MB`);
  const engines = [{ name: 'berth', before: `${berth} rmi -f ${img}; ${berth} image prune -af`, cmd: `${berth} pull -q ${img}` }];
  if (sh('/usr/bin/docker -H unix:///var/run/docker.sock version', { allowFail: true }).status === 0) {
    engines.push({ name: 'docker', before: `/usr/bin/docker -H unix:///var/run/docker.sock rmi -f ${img}; /usr/bin/docker -H unix:///var/run/docker.sock rmi -f fixtures-debian:base; /usr/bin/docker -H unix:///var/run/docker.sock image prune -f`, cmd: `/usr/bin/docker -H unix:///var/run/docker.sock pull -q ${img}` });
    const dpid = sh('pidof dockerd', { allowFail: true }).stdout.trim();
    const cpid = sh('pidof containerd', { allowFail: true }).stdout.trim();
    if (dpid) console.log(`dockerd RSS: ${(rssKb(dpid) / 1024).toFixed(1)} MB` + (cpid ? `, containerd RSS: ${(rssKb(cpid) / 1024).toFixed(1)} MB` : ''));
  }
  if (have('podman')) engines.push({ name: 'podman', before: `podman rmi -f ${img}; podman rmi -f fixtures-debian:base localhost/fixtures-debian:base`, cmd: `podman pull -q --tls-verify=false ${img}` });
  compare(`pull ${img}`, engines, { runs });
  console.log(`berth daemon RSS after pulls: ${(rssKb(daemon.pid) / 1024).toFixed(1)} MB`);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(tmp, { recursive: true, force: true });
}
