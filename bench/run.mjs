// `run --rm IMG true` (default network, image already local): Berth through the docker CLI and
// through `berth run`, vs Docker vs Podman, interleaved in one run; plus RSS of the idle daemons
// and the per-container overhead (supervisor processes) of 5 detached `sleep` containers.
//   node bench/run.mjs [RUNS=10] [EXTRA=0]   (EXTRA: that many more runs, then the idle RSS again)
//   BENCH_DAEMON_LOG=FILE: the daemon runs with --debug and logs there (its start/exit stages per
//   container show where a slow run spent its time; the debug log costs ~1 ms per start).
// Needs root, busybox-static, the docker CLI; Docker via /var/run/docker.sock and podman are optional.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, have, rssKb, sh } from './lib.mjs';

const runs = Math.max(10, Number(process.argv[2] ?? 10));
const extra = Math.max(0, Number(process.argv[3] ?? 0));
const root = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'berth-bench-run-'));
const sock = join(tmp, 'berth.sock');
const img = `berth-bench/run:${process.pid}`;
const CLI = '/usr/local/bin/docker';
const berthCli = `DOCKER_HOST=unix://${sock} ${CLI}`;
// Executed as users run it: bin/berth sets node's flags and environment.
const berthRun = `${join(root, 'bin/berth')} -H unix://${sock}`;
const dockerCli = '/usr/bin/docker -H unix:///var/run/docker.sock';
const mb = (kb) => (kb / 1024).toFixed(1).padStart(6) + ' MB';

// bin/berth runs the CLI from its bundle only when the bundle is at least as new as the compiled
// modules: after a bare `tsc` the berth-cli column would time the slower ES-module fallback.
{
  const cli = join(root, 'dist/src/cli');
  const age = (f) => { try { return statSync(join(cli, f)).mtimeMs; } catch { return -1; } };
  if (age('main.cjs') < age('main.js')) {
    // Rebundle (the last step of `npm run build`) rather than time the slower fallback.
    console.warn('dist/src/cli/main.cjs is missing or older than main.js (a bare `tsc` ran): bundling the CLI again');
    sh(`node ${join(root, 'scripts/bundle-cli.mjs')}`);
  }
}

/** Tiny image from the host's busybox-static. */
function makeTar() {
  const rfs = join(tmp, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(rfs, d), { recursive: true });
  chmodSync(join(rfs, 'tmp'), 0o1777);
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => sh(`test -x ${p}`, { allowFail: true }).status === 0);
  copyFileSync(bb, join(rfs, 'bin/busybox'));
  for (const a of sh(`${bb} --list`).stdout.split('\n').filter((a) => a && a !== 'busybox')) symlinkSync('busybox', join(rfs, 'bin', a));
  writeFileSync(join(rfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rfs, 'etc/group'), 'root:x:0:\n');
  sh(`tar -C ${rfs} -cf ${tmp}/img.tar .`);
  return `${tmp}/img.tar`;
}

/** Pids of processes whose /proc/PID/comm is `name`. */
function pidsByComm(name) {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === name) out.push(Number(p)); } catch { /* gone */ }
  }
  return out;
}
const sumRss = (pids) => pids.reduce((a, p) => a + rssKb(p), 0);

/** Pss and Uss (private pages) of a pid, kB: shared library pages count once across processes. */
function pssUssKb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const f = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { pss: f('Pss'), uss: f('Private_Clean') + f('Private_Dirty') };
  } catch { return { pss: 0, uss: 0 }; }
}
const cmdline = (p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } };

/**
 * Start 5 `sleep 1000` containers; memory of the per-container helper processes (comm in `names`)
 * that appeared and name one of those containers on their command line (other jobs on the host
 * start their own), per container: RSS, and PSS/USS (RSS counts shared library pages in full).
 */
function perContainer(cli, names) {
  const before = new Set(names.flatMap(pidsByComm));
  const ids = [];
  try {
    for (let i = 0; i < 5; i++) ids.push(sh(`${cli} run -d ${imgFor(cli)} sleep 1000`).stdout.trim());
    sh('sleep 1');
    const fresh = names.flatMap(pidsByComm).filter((p) => !before.has(p) && ids.some((id) => cmdline(p).includes(id)));
    const m = fresh.map(pssUssKb);
    const per = (k) => m.reduce((a, x) => a + x[k], 0) / ids.length;
    return { n: fresh.length, kb: sumRss(fresh) / ids.length, pss: per('pss'), uss: per('uss') };
  } finally {
    if (ids.length) sh(`${cli} rm -f ${ids.join(' ')}`, { allowFail: true });
  }
}
function imgFor(cli) { return cli.startsWith('podman') ? `localhost/${img}` : img; }

// Started as users start it (bin/berth gives a daemon's node its flags).
const daemonLog = process.env.BENCH_DAEMON_LOG;
const daemon = spawn(join(root, 'bin/berth'), ['daemon', '--root', join(tmp, 'root'), '--exec-root', join(tmp, 'run'), '--host', `unix://${sock}`, ...(daemonLog ? ['--debug'] : [])], {
  stdio: daemonLog ? ['ignore', openSync(daemonLog, 'a'), openSync(daemonLog, 'a')] : 'ignore',
});
let dockerUp = false;
let podmanUp = false;
try {
  for (let i = 0; i < 100 && sh(`${berthRun} version`, { allowFail: true }).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const tar = makeTar();
  sh(`${berthCli} import ${tar} ${img}`);
  dockerUp = sh(`${dockerCli} version`, { allowFail: true }).status === 0;
  if (dockerUp) sh(`${dockerCli} import ${tar} ${img}`);
  podmanUp = have('podman') && sh(`podman import ${tar} ${img}`, { allowFail: true }).status === 0;
  // Warm each engine once (first container start pays one-off setup such as the bridge).
  sh(`${berthCli} run --rm ${img} true`);
  if (dockerUp) sh(`${dockerCli} run --rm ${img} true`);
  if (podmanUp) sh(`podman run --rm ${imgFor('podman')} true`);
  await new Promise((r) => setTimeout(r, 1000));
  const idleKb = rssKb(daemon.pid);

  const engines = [
    { name: 'berth', cmd: `${berthCli} run --rm ${img} true` },
    { name: 'berth-cli', cmd: `${berthRun} run --rm ${img} true` },
  ];
  if (dockerUp) engines.push({ name: 'docker', cmd: `${dockerCli} run --rm ${img} true` });
  if (podmanUp) engines.push({ name: 'podman', cmd: `podman run --rm ${imgFor('podman')} true` });
  const med = compare(`run --rm ${img} true`, engines, { runs, base: dockerUp ? 'docker' : 'berth' });

  console.log('\nMemory (RSS)');
  console.log(`  berth daemon idle           ${mb(idleKb)}   goal <= 60 MB`);
  if (dockerUp) {
    const d = sumRss(pidsByComm('dockerd'));
    const c = sumRss(pidsByComm('containerd'));
    console.log(`  dockerd + containerd        ${mb(d + c)}   (dockerd ${mb(d).trim()}, containerd ${mb(c).trim()})`);
  }
  const bpc = perContainer(berthCli, ['conmon']);
  const pu = (x) => `PSS ${mb(x.pss).trim()}, USS ${mb(x.uss).trim()}`;
  console.log(`  berth per container         ${mb(bpc.kb)}   (${bpc.n} conmon for 5 containers; ${pu(bpc)}; goal <= 2 MB)`);
  if (dockerUp) {
    const dpc = perContainer(dockerCli, ['containerd-shim', 'containerd-shim-runc-v2', 'docker-proxy']);
    console.log(`  docker per container        ${mb(dpc.kb)}   (${dpc.n} containerd-shim for 5 containers; ${pu(dpc)})`);
  }
  if (podmanUp) {
    const ppc = perContainer('podman', ['conmon']);
    console.log(`  podman per container        ${mb(ppc.kb)}   (${ppc.n} conmon for 5 containers; ${pu(ppc)})`);
  }
  // Idle again: the daemon collects and trims once its API has been quiet for 500 ms.
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`  berth daemon idle after     ${mb(rssKb(daemon.pid))}   (the runs above, ${2 * runs + 6} containers in all)`);
  if (extra > 0) {
    for (let i = 0; i < extra; i++) sh(`${berthCli} run --rm ${img} true`);
    await new Promise((r) => setTimeout(r, 1500));
    console.log(`  berth daemon idle after +${extra}  ${mb(rssKb(daemon.pid))}   (${2 * runs + 6 + extra} containers in all)`);
  }

  console.log('\nGoals');
  console.log(`  berth median ${med.berth.toFixed(0)} ms (goal <= 100 ms)` + (dockerUp ? `, ${(med.berth / med.docker).toFixed(2)}x docker (goal <= 0.35x)` : ''));
} finally {
  sh(`${berthCli} rmi -f ${img}`, { allowFail: true });
  if (dockerUp) sh(`${dockerCli} rmi -f ${img}`, { allowFail: true });
  if (podmanUp) sh(`podman rmi -f ${imgFor('podman')}`, { allowFail: true });
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(tmp, { recursive: true, force: true });
}
