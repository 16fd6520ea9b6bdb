// Issue 3 §6: confinement equal to Docker's, side by side. The same probe runs in a Berth container
// and in a real Docker Engine container (same busybox image) under several option sets; the
// observations must match. Without a reachable Docker Engine, Berth is checked against Docker's
// known defaults instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyboxTar, missing, runDocker, setup, uniq, type Env } from './harness.js';

const DOCKER_ENGINE = 'unix:///var/run/docker.sock';
const MASKED = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/acpi', '/sys/firmware'];

// Prints `key=value` lines: capability sets, seccomp mode, no_new_privs, how each masked path reads,
// whether /proc/sys and /proc/sysrq-trigger take writes, the /dev names, and rootfs writability.
const PROBE = [
  `busybox grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status | busybox tr -d '\\t' | busybox sed 's/:/=/'`,
  `for f in ${MASKED.join(' ')}; do`,
  '  if [ -c $f ]; then echo "mask:$f=chr:$(busybox wc -c < $f)";',
  '  elif [ -d $f ]; then echo "mask:$f=dir:$(ls -A $f | busybox wc -l):$(touch $f/x 2>/dev/null && echo rw || echo ro)";',
  '  elif [ -e $f ]; then echo "mask:$f=file:$(busybox wc -c < $f)";',
  '  else echo "mask:$f=absent"; fi; done',
  '(echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo procsys=rw || echo procsys=ro',
  '(echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=rw || echo sysrq=ro',
  'echo "dev=$(ls /dev | busybox tr "\\n" " ")"',
  'touch /rootw 2>/dev/null && echo rootfs=rw || echo rootfs=ro',
  'touch /tmp/w 2>/dev/null && echo tmp=rw || echo tmp=ro',
  'touch /dev/shm/w 2>/dev/null && echo shm=rw || echo shm=ro',
  '(echo "# probe" >> /etc/hosts) 2>/dev/null && echo etchosts=rw || echo etchosts=ro',
].join('\n');

const CASES: { name: string; args: string[]; expect: Record<string, string> }[] = [
  { name: 'default', args: [], expect: { CapEff: '00000000a80425fb', CapBnd: '00000000a80425fb', CapPrm: '00000000a80425fb', CapInh: '0000000000000000', CapAmb: '0000000000000000', Seccomp: '2', NoNewPrivs: '0', rootfs: 'rw', tmp: 'rw', etchosts: 'rw' } },
  { name: 'cap-drop ALL + NET_BIND_SERVICE', args: ['--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE'], expect: { CapEff: '0000000000000400', CapBnd: '0000000000000400', CapPrm: '0000000000000400', CapInh: '0000000000000000', CapAmb: '0000000000000000', Seccomp: '2', NoNewPrivs: '0' } },
  { name: 'no-new-privileges', args: ['--security-opt', 'no-new-privileges'], expect: { CapEff: '00000000a80425fb', Seccomp: '2', NoNewPrivs: '1' } },
  { name: 'read-only', args: ['--read-only'], expect: { CapEff: '00000000a80425fb', Seccomp: '2', rootfs: 'ro', tmp: 'ro', shm: 'rw', etchosts: 'ro' } },
];

/** Docker's fresh /dev (names only). */
const DOCKER_DEV = 'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero';

function parse(out: string): Record<string, string> {
  const m: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return m;
}

async function probe(host: string, image: string, args: string[]): Promise<Record<string, string>> {
  const r = await runDocker(host, ['run', '--rm', ...args, image, 'sh', '-c', PROBE]);
  assert.equal(r.code, 0, `probe on ${host} ${args.join(' ')}: ${r.stderr}`);
  return parse(r.stdout);
}

/** Docker's defaults, for when no Docker Engine is there to compare with. */
function assertDockerDefaults(name: string, got: Record<string, string>, expect: Record<string, string>, devList = DOCKER_DEV): void {
  for (const [k, v] of Object.entries(expect)) assert.equal(got[k], v, `${name}: ${k}`);
  assert.equal(got.procsys, 'ro', `${name}: /proc/sys`);
  assert.equal(got.sysrq, 'ro', `${name}: /proc/sysrq-trigger`);
  assert.equal(got.dev, devList, `${name}: /dev`);
  for (const f of MASKED) {
    // Masked files are /dev/null binds (empty char devices), masked dirs empty read-only tmpfs.
    assert.match(got[`mask:${f}`] ?? '', /^(absent|chr:0|dir:0:ro)$/, `${name}: ${f}`);
  }
}

test('confinement matches Docker, side by side', async (t) => {
  const why = missing();
  if (why) { t.skip(why); return; }
  const env: Env = await setup(`berth-test/confine:${process.pid}`);
  const dockerImage = `berth-confine-test:${uniq('t')}`;
  let dockerUp = (await runDocker(DOCKER_ENGINE, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 })).code === 0;
  try {
    if (dockerUp) {
      const tar = await busyboxTar(`${env.work}/docker`);
      const r = await runDocker(DOCKER_ENGINE, ['import', tar, dockerImage]);
      if (r.code !== 0) dockerUp = false;
    }
    // crun always adds /dev/core (a link to /proc/kcore, which is masked), under Docker too;
    // Docker's own default runtime, runc, does not.
    const crun = (await runDocker(env.host, ['info', '-f', '{{.DefaultRuntime}}'])).stdout.trim() === 'crun';
    const devList = crun ? `core ${DOCKER_DEV}` : DOCKER_DEV;
    for (const c of CASES) {
      await t.test(c.name, async (st) => {
        const berth = await probe(env.host, env.image, c.args);
        assertDockerDefaults(c.name, berth, c.expect, devList);
        if (!dockerUp) { st.skip('Docker Engine not reachable; checked against Docker defaults only'); return; }
        const docker = await probe(DOCKER_ENGINE, dockerImage, c.args);
        if (crun && docker.dev === DOCKER_DEV) berth.dev = DOCKER_DEV;
        assert.deepEqual(berth, docker, `${c.name}: Berth vs Docker`);
      });
    }
  } finally {
    if (dockerUp) await runDocker(DOCKER_ENGINE, ['rmi', '-f', dockerImage]).catch(() => undefined);
    await env.close();
  }
});
