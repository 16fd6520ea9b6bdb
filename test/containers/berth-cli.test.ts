// The `berth` CLI's container commands against the daemon: run (--rm, -d, -i), exit codes, ps,
// logs, exec, stop, rm, cp, diff, export, commit, update, stats, attach, sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import tar from 'tar-stream';
import { fileURLToPath } from 'node:url';
import { missing, setup, uniq, type Env, type Run } from './harness.js';

const skip = missing();
let env: Env;

before(async () => { if (!skip) env = await setup(); });
after(async () => { await env?.close(); });

const here = fileURLToPath(new URL('.', import.meta.url));
const fromDist = here.includes(`${'/'}dist${'/'}`);
const repo = resolve(here, fromDist ? '../../..' : '../..');

function spawnBerth(args: string[]) {
  const argv = fromDist
    // `--`: node 20 would read an `--env-file` among our arguments itself (bin/berth passes it too).
    ? ['--', join(repo, 'bin/berth'), ...args]
    : ['--import', 'tsx', join(repo, 'test/containers/berth-entry.ts'), ...args];
  return spawn(process.execPath, argv, { cwd: repo, env: { ...process.env, BERTH_HOST: env.host, DOCKER_HOST: env.host }, stdio: ['pipe', 'pipe', 'pipe'] });
}

function berth(args: string[], input?: string | Buffer): Promise<Run> {
  return new Promise((res, rej) => {
    const c = spawnBerth(args);
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

/** Run `args` with the docker CLI and with berth: same exit code, stdout and stderr ("docker" read as "berth"). */
async function sameAsDocker(args: string[], code = 0, input?: string): Promise<Run> {
  const theirs = await env.docker(args, { input });
  const ours = await berth(args, input);
  const b = (s: string) => s.replace(/docker/g, 'berth');
  assert.equal(theirs.code, code, `docker ${args.join(' ')}: ${theirs.stderr}`);
  assert.deepEqual([ours.code, ours.stdout, ours.stderr], [theirs.code, b(theirs.stdout), b(theirs.stderr)], args.join(' '));
  return ours;
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
  // docker's codes for runs the engine refuses: 126 not executable, 125 anything else.
  const nx = await berth(['run', '--rm', env.image, '/etc/passwd']);
  assert.equal(nx.code, 126, nx.stderr);
  const nfd = await berth(['run', '-d', env.image, 'no-such-binary']);
  assert.equal(nfd.code, 127, nfd.stderr);
  const noImage = await berth(['run', '--rm', '--pull', 'never', 'berth-test/no-such-image:1', 'true']);
  assert.equal(noImage.code, 125);
  // Reported as the docker CLI reports a refused run: prefixed, then where to find help.
  assert.match(noImage.stderr, /^berth: Error response from daemon: No such image: berth-test\/no-such-image:1[^\n]*\n\nRun 'berth run --help' for more information\n$/);
  const named = `berth-cli-dup-${process.pid}`;
  assert.equal((await berth(['create', '--name', named, env.image, 'true'])).code, 0);
  const dup = await berth(['run', '--rm', '--name', named, env.image, 'true']);
  assert.equal(dup.code, 125);
  assert.match(dup.stderr, /Conflict\. The container name "\/berth-cli-dup-\d+" is already in use/);
  assert.equal((await berth(['rm', named])).code, 0);
  const badFlag = await berth(['run', '--rm', '--memory', '12x', env.image, 'true']);
  assert.equal(badFlag.code, 125);
  assert.equal(badFlag.stderr, "invalid size: '12x'\n");
  const cat = await berth(['run', '--rm', '-i', env.image, 'cat'], 'piped\n');
  assert.equal(cat.stdout, 'piped\n');
});

test('berth run -a, --cidfile, --domainname, --mac-address, --expose, --label-file as the docker CLI', { skip }, async () => {
  const both = ['sh', '-c', 'echo out; echo err >&2'];
  const out = await berth(['run', '--rm', '-a', 'stdout', env.image, ...both]);
  assert.deepEqual([out.code, out.stdout, out.stderr], [0, 'out\n', '']);
  const err = await berth(['run', '--rm', '-a', 'STDERR', env.image, ...both]);
  assert.deepEqual([err.code, err.stdout, err.stderr], [0, '', 'err\n']);
  const badA = await berth(['run', '--rm', '-a', 'bogus', env.image, 'true']);
  assert.equal(badA.code, 125);
  assert.match(badA.stderr, /valid streams are STDIN, STDOUT and STDERR/);
  const bothAD = await berth(['run', '-d', '-a', 'stdout', env.image, 'true']);
  assert.deepEqual([bothAD.code, bothAD.stderr], [1, 'conflicting options: cannot specify both --attach and --detach\n']);

  const cid = join(env.work, uniq('cid'));
  const first = await berth(['run', '--rm', '--cidfile', cid, env.image, 'true']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(await fsp.readFile(cid, 'utf8'), /^[0-9a-f]{64}$/);
  const again = await berth(['run', '--rm', '--cidfile', cid, env.image, 'true']);
  assert.equal(again.code, 125);
  assert.equal(again.stderr, `container ID file found, make sure the other container isn't running or delete ${cid}\n`);

  const dn = await berth(['run', '--rm', '-h', 'box', '--domainname', 'example.org', '--mac-address', '02:42:AC:11:00:99', env.image, 'sh', '-c', 'hostname -d; cat /sys/class/net/eth0/address']);
  assert.equal(dn.stdout, 'example.org\n02:42:ac:11:00:99\n', dn.stderr);
  const badMac = await berth(['run', '--rm', '--mac-address', 'nope', env.image, 'true']);
  assert.deepEqual([badMac.code, badMac.stderr], [125, 'nope is not a valid mac address\n']);

  const lf = join(env.work, uniq('labels'));
  await fsp.writeFile(lf, 'a=1\n# a comment\n\nb=2\n');
  const id = (await berth(['create', '--expose', '7000-7001/udp', '--expose', '80', '--label-file', lf, '-l', 'c=3', env.image, 'true'])).stdout.trim();
  const seen = await berth(['inspect', '-f', '{{json .Config.ExposedPorts}} {{json .Config.Labels}}', id]);
  assert.equal(seen.stdout.trim(), '{"7000/udp":{},"7001/udp":{},"80/tcp":{}} {"a":"1","b":"2","c":"3"}');
  await berth(['rm', id]);
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
    // top and inspect print what the docker CLI prints for the same daemon (top's columns are at
    // least 20 wide; an inspect of one kind names it in the daemon's words, after an empty line).
    const [bt, dt] = await Promise.all([berth(['top', name]), env.docker(['top', name])]);
    const cols = (out: string) => out.split('\n')[0];
    assert.equal(cols(bt.stdout), cols(dt.stdout));
    assert.match(cols(bt.stdout)!, /^UID {17}PID {17}/);
    // rm -f of a container that is not there: reported, exit 0 (plain rm: exit 1), as the docker CLI.
    for (const args of [['inspect', '--type', 'container', '-f', '{{.Id}}', 'berth-no-such'], ['inspect', '-f', '{{.Id}}', 'berth-no-such'],
      ['rm', '-f', 'berth-no-such'], ['rm', 'berth-no-such']]) {
      const [b, d] = await Promise.all([berth(args), env.docker(args)]);
      assert.deepEqual([b.code, b.stdout, b.stderr], [d.code, d.stdout, d.stderr], args.join(' '));
    }
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

test('berth refuses bad run/create/start input as the docker CLI does: same words, help hints and exit codes', { skip }, async () => {
  const created = uniq('refuse');
  assert.equal((await berth(['create', '--name', created, env.image, 'true'])).code, 0);
  try {
    const spaced = join(env.work, uniq('spaced'));
    await fsp.writeFile(spaced, 'GOOD=1\n  BAD NAME=x\n');
    const cases = [
      ['run', '--rm', '--env-file', spaced, env.image, 'true'],
      ['create', '--label-file', spaced, env.image, 'true'],
      ['run', '--rm', '-p', 'bogus', env.image, 'true'],
      ['create', '-p', '80:bogus', env.image, 'true'],
      // -p as docker's port-spec parser reads it: an address first, 16-bit ports, matching ranges.
      ['create', '-p', '80:80:80', env.image, 'true'],
      ['create', '-p', '99999:80', env.image, 'true'],
      ['create', '-p', '80-70:80', env.image, 'true'],
      ['create', '-p', '80-81:90-92', env.image, 'true'],
      ['create', '-p', '127.0.0.1::', env.image, 'true'],
      ['create', '-p', '[::1:80:80', env.image, 'true'],
      ['create', '-p', '80/bogus', env.image, 'true'],
      ['create', '--mount', 'type=bind,src=/x', env.image, 'true'],
      ['create', '--mount', 'type=bind,foo=1,dst=/x', env.image, 'true'],
      ['create', '--mount', 'bogus', env.image, 'true'],
      ['create', '--mount', 'type=tmpfs,dst=/x,tmpfs-mode=99', env.image, 'true'],
      ['create', '--mount', 'type=bind,src=/tmp,dst=/x,bind-propagation=sideways', env.image, 'true'],
      ['create', '--cpus', 'x', env.image, 'true'],
      ['create', '--cpus', '1.0000000001', env.image, 'true'],
      ['run', '--rm', '--restart', 'always', env.image, 'true'],
      ['create', '--health-cmd', 'true', '--health-interval', 'x', env.image, 'true'],
      ['create', '--health-cmd', 'true', '--health-interval', '5', env.image, 'true'],
      ['create', '--health-cmd', 'true', '--health-timeout', '1d', env.image, 'true'],
      ['create', '--health-interval', '-1s', env.image, 'true'],
      ['create', '--health-retries', '-1', env.image, 'true'],
      ['create', '--no-healthcheck', '--health-retries', '2', env.image, 'true'],
      ['create', '--sysctl', 'kernel.foo=1', env.image, 'true'],
      ['create', '--sysctl', 'net.ipv4.ip_forward', env.image, 'true'],
      ['create', '--ulimit', 'nofile=bad', env.image, 'true'],
      ['create', '--ulimit', 'as=1', env.image, 'true'],
      ['create', '--ulimit', 'nofile=1:2:3', env.image, 'true'],
      ['create', '--ulimit', 'nofile=5:2', env.image, 'true'],
      ['create', '--ulimit', 'nofile=99999999999999999999', env.image, 'true'],
      ['run', '--rm', '--name', 'a b', env.image, 'true'],
      ['start', '-a', created, 'berth-no-such'],
      ['start', 'berth-no-such-1', 'berth-no-such-2'],
    ];
    for (const args of cases) {
      const [b, d] = await Promise.all([berth(args), env.docker(args)]);
      const asBerth = (t: string) => t.replace(/\bdocker\b/g, 'berth');
      assert.deepEqual([b.code, b.stdout, b.stderr], [d.code, asBerth(d.stdout), asBerth(d.stderr)], args.join(' '));
    }
    // What the same checks let through.
    for (const flags of [['--sysctl', 'kernel.shmmax=1000000', '--sysctl', 'net.ipv4.ping_group_range=0 0'], ['--health-start-interval', '2s'], ['--ulimit', 'nofile=-1:-1'], ['-p', '8080-8081:80'], ['-p', '[::1]:0:80/udp'], ['-p', '80-81:90-91'], ['--cpus', '3/2'], ['--mount', 'type=tmpfs,dst=/x,ro'], ['--health-cmd', 'true', '--health-interval', '1m30s']]) {
      const r = await berth(['create', ...flags, env.image, 'true']);
      assert.equal(r.code, 0, `${flags.join(' ')}: ${r.stderr}`);
      await berth(['rm', r.stdout.trim()]);
    }
  } finally {
    await berth(['rm', '-f', created]);
  }
});

test('berth --env-file and --label-file read as the docker CLI reads them', { skip }, async () => {
  const file = join(env.work, uniq('kv'));
  // A BOM, a left-indented line, a value's trailing spaces, a bare name set on the client (PATH)
  // and one that is not (left out).
  await fsp.writeFile(file, '\uFEFFA=1\n   B=two  \n# note\n\nPATH\nBERTH_TEST_SURELY_UNSET\nC=\n');
  const ids: string[] = [];
  try {
    for (const cli of [berth, env.docker]) {
      const r = await cli(['create', '--env-file', file, '--label-file', file, env.image, 'true']);
      assert.equal(r.code, 0, r.stderr);
      ids.push(r.stdout.trim());
    }
    const look = (id: string) => env.docker(['inspect', '-f', '{{json .Config.Env}} {{json .Config.Labels}}', id]);
    const [b, d] = await Promise.all(ids.map(look));
    assert.equal(b!.stdout, d!.stdout);
    assert.match(b!.stdout, /^\["A=1","B=two  ","PATH=[^"]+","C="\] \{"A":"1","B":"two  ","C":""\}\n$/);
  } finally {
    await berth(['rm', ...ids]);
  }
});

test('berth --mount sends bind-propagation and tmpfs-mode as the docker CLI does', { skip }, async () => {
  const flags = ['--mount', 'type=bind,src=/tmp,dst=/b,bind-propagation=RSlave', '--mount', 'type=tmpfs,dst=/t,tmpfs-mode=1770,tmpfs-size=1m'];
  const ids: string[] = [];
  try {
    for (const cli of [berth, env.docker]) {
      const r = await cli(['create', ...flags, env.image, 'true']);
      assert.equal(r.code, 0, r.stderr);
      ids.push(r.stdout.trim());
    }
    const look = (id: string) => env.docker(['inspect', '-f', '{{json .HostConfig.Mounts}} {{range .Mounts}}{{.Destination}}={{.Propagation}} {{end}}', id]);
    const [b, d] = await Promise.all(ids.map(look));
    assert.equal(b!.stdout, d!.stdout);
    assert.match(b!.stdout, /"BindOptions":\{"Propagation":"rslave"\}.*"TmpfsOptions":\{"SizeBytes":1048576,"Mode":1016\}/);
    assert.match(b!.stdout, /\/b=rslave/);
  } finally {
    await berth(['rm', ...ids]);
  }
});

/** A tar of one file, for `berth cp - CONTAINER:DIR`. */
async function oneFileTar(name: string, body: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('berth cp both ways, symlink escapes, diff, export, commit', { skip }, async () => {
  const name = uniq('bcp');
  const work = await fsp.mkdtemp(join(env.work, 'cp-'));
  const outside = join(work, 'outside');
  await fsp.mkdir(outside);
  await fsp.writeFile(join(outside, 'secret'), 'host secret\n');
  const committed = `berth-test/committed-${process.pid}:1`;
  try {
    assert.equal((await berth(['run', '-d', '--name', name, env.image, 'sleep', '600'])).code, 0);
    // An absolute link with enough '..' to reach the host's root if it were followed outside.
    const setup = await berth(['exec', name, 'sh', '-c', `mkdir -p /data/sub && echo inside > /data/sub/f && busybox ln -s /../../../../../../..${outside} /data/esc`]);
    assert.equal(setup.code, 0, setup.stderr);

    // container → host: a directory into a new path, a file to stdout as tar.
    const out = await berth(['cp', `${name}:/data`, join(work, 'copy')]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(await fsp.readFile(join(work, 'copy/sub/f'), 'utf8'), 'inside\n');
    assert.equal((await fsp.lstat(join(work, 'copy/esc'))).isSymbolicLink(), true);
    const toStdout = await berth(['cp', `${name}:/data/sub/f`, '-']);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.ok(toStdout.stdout.startsWith('f\0') && toStdout.stdout.includes('inside\n'));

    // host → container: a file into a directory, a directory to a new name, a tar on stdin.
    await fsp.writeFile(join(work, 'hostfile'), 'from host\n');
    await fsp.mkdir(join(work, 'hostdir/deep'), { recursive: true });
    await fsp.writeFile(join(work, 'hostdir/deep/g'), 'deep\n');
    assert.equal((await berth(['cp', join(work, 'hostfile'), `${name}:/data/`])).code, 0);
    assert.equal((await berth(['cp', join(work, 'hostdir'), `${name}:/data/newdir`])).code, 0);
    const piped = await berth(['cp', '-', `${name}:/data`], await oneFileTar('piped', 'through stdin\n'));
    assert.equal(piped.code, 0, piped.stderr);
    const cat = await berth(['exec', name, 'cat', '/data/hostfile', '/data/newdir/deep/g', '/data/piped']);
    assert.equal(cat.stdout, 'from host\ndeep\nthrough stdin\n', cat.stderr);

    // docker's errors for impossible copies.
    const dirToFile = await berth(['cp', `${name}:/data`, join(work, 'hostfile')]);
    assert.equal(dirToFile.code, 1);
    assert.equal(dirToFile.stderr, 'cannot copy directory\n');
    const both = await berth(['cp', `${name}:/a`, `${name}:/b`]);
    assert.equal(both.stderr, 'copying between containers is not supported\n');

    // The link is resolved inside the container: the host's file is neither read nor written.
    const steal = await berth(['cp', `${name}:/data/esc/secret`, join(work, 'stolen')]);
    assert.equal(steal.code, 1);
    assert.match(steal.stderr, /Could not find the file/);
    assert.equal(existsSync(join(work, 'stolen')), false);
    await berth(['cp', join(work, 'hostfile'), `${name}:/data/esc/planted`]);
    assert.deepEqual(await fsp.readdir(outside), ['secret']);

    const diff = await berth(['diff', name]);
    assert.equal(diff.code, 0, diff.stderr);
    const lines = diff.stdout.split('\n');
    for (const l of ['A /data', 'A /data/sub/f', 'A /data/hostfile', 'A /data/newdir/deep/g']) assert.ok(lines.includes(l), `${l} in:\n${diff.stdout}`);

    const tarFile = join(work, 'export.tar');
    const exp = await berth(['export', '-o', tarFile, name]);
    assert.equal(exp.code, 0, exp.stderr);
    const listing = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.replace(/^\.\//, ''));
    for (const p of ['bin/busybox', 'data/sub/f', 'data/piped']) assert.ok(listing.includes(p), `${p} in export`);

    const commit = await berth(['commit', '-c', 'ENV COMMITTED=yes', '-m', 'from the test', name, committed]);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const fromImage = await berth(['run', '--rm', committed, 'sh', '-c', 'cat /data/sub/f; echo $COMMITTED']);
    assert.equal(fromImage.stdout, 'inside\nyes\n', fromImage.stderr);
  } finally {
    await env.docker(['rm', '-f', name]);
    await env.docker(['rmi', committed]);
    await fsp.rm(work, { recursive: true, force: true });
  }
});

test('berth update, stats --no-stream, ps -s, inspect -s', { skip }, async () => {
  const name = uniq('bupd');
  try {
    assert.equal((await berth(['run', '-d', '--name', name, env.image, 'sleep', '600'])).code, 0);
    // As Docker: with no memory limit yet, the swap limit must come along.
    const alone = await berth(['update', '--memory', '64m', name]);
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    const up = await berth(['update', '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '77', '--restart', 'on-failure:3', name]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, `${name}\n`);
    const insp = await berth(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', name]);
    assert.equal(insp.stdout, '67108864 77 on-failure:3\n', insp.stderr);
    // The daemon's warnings after the names, on stdout, as the docker CLI prints them.
    if (!existsSync('/sys/fs/cgroup/blkio/blkio.weight') && !existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight')) {
      const w = await berth(['update', '--blkio-weight', '300', name]);
      assert.deepEqual([w.code, w.stdout], [0, `${name}\nYour kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n`]);
    }
    const none = await berth(['update', name]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'you must provide one or more flags when using this command\n');
    const missing = await berth(['update', '--cpus', '1', 'no-such-container-x']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: No such container: no-such-container-x\n$/);

    const table = await berth(['stats', '--no-stream', name]);
    assert.equal(table.code, 0, table.stderr);
    const [head, row, extra] = table.stdout.split('\n');
    assert.match(head!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    // The new memory limit shows as the limit; sleep is the one process.
    assert.match(row!, new RegExp(`^[0-9a-f]{12}\\s+${name}\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / 64MiB\\s+\\d+\\.\\d\\d%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
    assert.equal(extra, '');
    const json = await berth(['container', 'stats', '--no-stream', '--format', 'json', name]);
    const obj = JSON.parse(json.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(obj), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
    assert.equal(obj.Name, name);
    const gone = await berth(['stats', '--no-stream', name, 'no-such-container-x']);
    assert.equal(gone.code, 1);

    await berth(['exec', name, 'sh', '-c', 'echo 0123456789 > /tmp/ten']);
    const sizes = await berth(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', name]);
    const [rw, rootfs] = sizes.stdout.trim().split(' ').map(Number);
    assert.ok(rw! >= 11 && rootfs! > rw!, sizes.stdout);
    const ps = await berth(['ps', '-s', '--filter', `name=${name}`]);
    assert.match(ps.stdout.split('\n')[0]!, /NAMES\s+SIZE$/);
    assert.match(ps.stdout.split('\n')[1]!, /[\d.]+[kMG]?B \(virtual [\d.]+[kMG]?B\)$/);
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('berth attach: the running container\'s output, then its exit code', { skip }, async () => {
  const name = uniq('batt');
  try {
    const run = await berth(['run', '-d', '--name', name, env.image, 'sh', '-c', 'while [ ! -f /tmp/stop ]; do echo tick; sleep 0.1; done; echo bye; echo gone >&2; exit 7']);
    assert.equal(run.code, 0, run.stderr);
    const c = spawnBerth(['attach', name]);
    c.stdin.end();
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const closed = new Promise<number>((res) => c.on('close', (code) => res(code ?? -1)));
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Attached (output arrives): now let the container finish.
      if (!stopped && stdout.includes('tick\n')) { stopped = true; void berth(['exec', name, 'touch', '/tmp/stop']); }
    });
    assert.equal(await closed, 7, stderr);
    assert.ok(stdout.endsWith('tick\nbye\n'), stdout);
    assert.equal(stderr, 'gone\n');
    const again = await berth(['attach', name]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'You cannot attach to a stopped container, start it first\n');
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
  assert.match(lines[5]!, /^Groups:\s+0 10\s*$/); // the primary group first, as Docker
  const name = uniq('res');
  const c = await berth(['create', '--name', name, '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--cpuset-cpus', '0',
    '--memory-reservation', '32m', '--memory-swappiness', '10', '--oom-kill-disable', '--cpu-period', '50000', '--cpu-quota', '25000', '--cpuset-mems', '0', '--oom-score-adj', '300', '--cgroup-parent', 'berth-test-parent', env.image, 'true']);
  assert.equal(c.code, 0, c.stderr);
  const hc = await berth(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} '
    + '{{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpusetMems}} {{.HostConfig.OomScoreAdj}} {{.HostConfig.CgroupParent}}', name]);
  assert.equal(hc.stdout.trim(), `${64 * 1024 * 1024} ${128 * 1024 * 1024} 512 0 ${32 * 1024 * 1024} 10 true 50000 25000 0 300 berth-test-parent`);
  // The daemon's warnings are printed as the docker CLI prints them.
  const warned = await berth(['create', '--oom-kill-disable', env.image, 'true']);
  assert.equal(warned.stderr, 'WARNING: OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.\n');
  await berth(['rm', warned.stdout.trim()]);
  await berth(['rm', name]);
  // Device limits are checked as the docker CLI checks them, then reach the daemon (which looks the device up).
  const badDevPath = await berth(['run', '--rm', '--device-read-bps', 'vda:1mb', env.image, 'true']);
  assert.equal(badDevPath.code, 125);
  assert.match(badDevPath.stderr, /invalid argument "vda:1mb" for "--device-read-bps" flag: bad format for device path: vda:1mb/);
  const badRate = await berth(['run', '--rm', '--device-write-iops', '/dev/null:fast', env.image, 'true']);
  assert.match(badRate.stderr, /invalid rate for device: \/dev\/null:fast\. The correct format is <device-path>:<number>\. Number must be a positive integer/);
  const noDev = await berth(['run', '--rm', '--device-read-bps', '/dev/berth-no-such:1mb', env.image, 'true']);
  assert.equal(noDev.code, 127);
  assert.match(noDev.stderr, /stat \/dev\/berth-no-such: no such file or directory/);
  const sopt = await berth(['run', '--rm', '--storage-opt', 'size=1G', env.image, 'true']);
  assert.match(sopt.stderr, /--storage-opt is supported only for overlay over xfs with 'pquota' mount option/);
  const bad = await berth(['run', '--rm', '--ulimit', 'bogus', env.image, 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "bogus" for "--ulimit" flag/);
});

test('berth run namespace, device, link, volumes-from and log flags reach the container', { skip }, async () => {
  const donor = uniq('bdonor');
  const shared = join(env.work, uniq('bvf'));
  await fsp.mkdir(shared);
  await fsp.writeFile(join(shared, 'f'), 'shared\n');
  try {
    assert.equal((await berth(['run', '-d', '--name', donor, '--ipc', 'shareable', '-v', `${shared}:/data`, env.image, 'sleep', '100'])).code, 0);
    const r = await berth(['run', '--rm', '--pid', `container:${donor}`, '--ipc', `container:${donor}`, '--device', '/dev/null:/dev/mynull:rw',
      '--link', `${donor}:db`, '--volumes-from', `${donor}:ro`, '--log-driver', 'none', env.image, 'sh', '-c',
      'ps -o comm | grep -c sleep; ls -l /dev/mynull | cut -c1; grep -w db /etc/hosts | cut -f2 | cut -d" " -f1; cat /data/f; touch /data/x 2>/dev/null || echo ro']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\nc\ndb\nshared\nro\n');
    const uts = await berth(['run', '--rm', '--uts', 'host', env.image, 'hostname']);
    assert.equal(uts.stdout.trim(), (await import('node:os')).hostname(), uts.stderr);
    const cgHost = await berth(['run', '--rm', '--cgroupns', 'host', env.image, 'sh', '-c', 'grep -m1 :pids: /proc/self/cgroup']);
    assert.match(cgHost.stdout, /:pids:\/.+\/[0-9a-f]{64}\n$/, cgHost.stderr);
    const badCg = await berth(['run', '--rm', '--cgroupns', 'both', env.image, 'true']);
    assert.equal(badCg.code, 125);
    assert.equal(badCg.stderr, '--cgroupns: invalid CGROUP mode\n');
    const badDev = await berth(['run', '--rm', '--device', '/dev/null:/x:rwz', env.image, 'true']);
    assert.equal(badDev.code, 125);
    assert.match(badDev.stderr, /bad mode specified: rwz/);
    const badLog = await berth(['run', '--rm', '--log-driver', 'gelf', env.image, 'true']);
    assert.equal(badLog.code, 125);
    assert.match(badLog.stderr, /logger: no log driver named 'gelf' is registered/);
  } finally {
    await berth(['rm', '-f', donor]);
  }
});

test('berth network ls, inspect, rm and prune over the built-in networks', { skip }, async () => {
  const name = uniq('bnet');
  try {
    const ls = await berth(['network', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(1).join(' ')), ['bridge bridge local', 'host host local', 'none null local']);
    assert.equal((await berth(['network', 'ls', '-q', '-f', 'driver=null'])).stdout.trim().length, 12);
    assert.equal((await berth(['run', '-d', '--name', name, env.image, 'sleep', '100'])).code, 0);
    const ip = (await berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).stdout.trim();
    const ins = await berth(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}', 'bridge']);
    assert.equal(ins.stdout.trim().replace(/\/\d+$/, ''), `${name} ${ip}`, ins.stderr);
    // `berth inspect` finds networks too, as `docker inspect` does.
    assert.equal((await berth(['inspect', '-f', '{{.Driver}}', 'none'])).stdout, 'null\n');
    const missing = await berth(['network', 'inspect', 'berth-no-such']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: network berth-no-such not found/);
    const rm = await berth(['network', 'rm', 'host']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /host is a pre-defined network and cannot be removed/);
    assert.equal((await berth(['network', 'rm', '-f', 'berth-no-such'])).code, 0);
    assert.equal((await berth(['network', 'prune', '-f'])).code, 0);
  } finally {
    await berth(['rm', '-f', name]);
  }
});

/** A command in a pty (util-linux `script`): `send` types into it, `seen` waits for output. */
function ptySession(command: string) {
  const c = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, BERTH_HOST: env.host, DOCKER_HOST: env.host, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  c.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  const exit = new Promise<number>((r) => c.on('close', (code) => r(code ?? -1)));
  return {
    send: (s: string) => c.stdin.write(s),
    seen: async (text: string) => { for (let i = 0; i < 250 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 20)); return out.includes(text); },
    exited: (ms: number) => Promise.race([exit, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]),
    output: () => out,
    kill: () => c.kill('SIGKILL'),
  };
}

test('exec -it: ctrl-p,ctrl-q (or --detach-keys) detaches the berth CLI and the docker CLI alike, and the shell runs on; output passes raw', { skip: skip || !fromDist || !existsSync('/usr/bin/script') }, async () => {
  const name = uniq('exec-keys');
  const berthCmd = `${process.execPath} ${join(repo, 'bin/berth')}`;
  try {
    assert.equal((await berth(['run', '-d', '--name', name, env.image, 'sleep', '300'])).code, 0);
    const cases = [
      [`${berthCmd} exec -it ${name} sh`, '\x10\x11'],
      [`${berthCmd} exec -it --detach-keys ctrl-x,y ${name} sh`, '\x18y'],
      [`/usr/local/bin/docker exec -it ${name} sh`, '\x10\x11'],
    ] as const;
    for (const [i, [cmd, keys]] of cases.entries()) {
      const s = ptySession(cmd);
      try {
        s.send(`echo mark-$((${i}+40))\r`);
        assert.ok(await s.seen(`mark-${i + 40}`), s.output());
        s.send(keys);
        const code = await s.exited(10_000);
        assert.equal(code, 1, `${cmd}: ${s.output()}`);
        assert.ok(s.output().includes('read escape sequence'), s.output());
        // The terminal passes the container's TTY output as is (raw, without output processing):
        // its "\r\n" does not become "\r\r\n".
        assert.ok(s.output().includes(`mark-${i + 40}\r\n`) && !s.output().includes('\r\r\n'), JSON.stringify(s.output()));
      } finally { s.kill(); }
    }
    // All three shells are still there: the CLI ended its attach, not the process.
    const ps = await berth(['exec', name, 'ps', '-o', 'args']);
    assert.equal(ps.stdout.split('\n').filter((l) => l.trim() === 'sh').length, 3, ps.stdout);
  } finally {
    await berth(['rm', '-f', name]);
  }
});

test('berth port and ps write ports as the docker CLI does, [::] in brackets', { skip }, async () => {
  const name = uniq('bport');
  try {
    assert.equal((await berth(['run', '-d', '--name', name, '-p', '8080', '-p', '127.0.0.1::9090/udp', env.image, 'sleep', '60'])).code, 0);
    for (const args of [['port', name], ['port', name, '8080'], ['ps', '--filter', `name=${name}`, '--format', '{{.Ports}}']]) {
      const ours = await berth(args);
      const theirs = await env.docker(args);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout, args.join(' '));
    }
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('berth ps templates, events, wait, rename and run -d print what the docker CLI prints', { skip }, async () => {
  const a = uniq('bfmt');
  const b = uniq('bfmt');
  const since = Math.floor(Date.now() / 1000) - 1;
  try {
    assert.equal((await env.docker(['run', '-d', '--name', a, '-l', 'tier=web', '-v', '/tmp:/host-tmp-dir-long', env.image, 'sleep', '60'])).code, 0);
    assert.equal((await env.docker(['run', '--name', b, env.image, 'sh', '-c', 'exit 3'])).code, 3);
    assert.equal((await env.docker(['pause', a])).code, 0);
    assert.equal((await env.docker(['unpause', a])).code, 0);
    const until = Math.floor(Date.now() / 1000) + 1;
    // Fields docker's ps formatter has beyond the table's: a label by name (a table's header is
    // that name), mounts, networks, local volumes, the creation time in Go's format, a nil platform;
    // `{{json .}}` with every field in Go's key order, sizes included.
    const mine = ['--filter', `name=${a}`];
    const fields = await sameAsDocker(['ps', ...mine, '--format', 'table {{.Label "tier"}}\t{{.Label "none"}}\t{{.Mounts}}\t{{.Networks}}\t{{.LocalVolumes}}\t{{.Platform}}\t{{.CreatedAt}}']);
    assert.match(fields.stdout, /^tier +none +MOUNTS +NETWORKS +LOCAL VOLUMES +PLATFORM +CREATED AT\nweb +\/tmp +bridge +0 +<nil> +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC\n$/);
    await sameAsDocker(['ps', ...mine, '--no-trunc', '--format', '{{.Mounts}}']);
    for (const format of ['{{json .}}', 'json']) {
      const [theirs, ours] = [await env.docker(['ps', ...mine, '--format', format]), await berth(['ps', ...mine, '--format', format])];
      // The times in words may tick between the two commands.
      const parse = (out: string) => { const o = JSON.parse(out) as Record<string, unknown>; delete o.RunningFor; delete o.Status; return o; };
      assert.deepEqual(parse(ours.stdout), parse(theirs.stdout), format);
      assert.deepEqual(Object.keys(JSON.parse(ours.stdout) as object), Object.keys(JSON.parse(theirs.stdout) as object), format);
      assert.match(ours.stdout, format === 'json' ? /"Platform":null,.*"Size":"0B"/ : /"Platform":null,.*"Size":"0B \(virtual [^"]+\)"/);
    }
    // A method without its argument fails the same way (the prefix of the message differs).
    for (const run of [await env.docker(['ps', '--format', '{{.Label}}']), await berth(['ps', '--format', '{{.Label}}'])]) {
      assert.equal(run.code, 1);
      assert.match(run.stderr, /at <\.Label>: wrong number of args for Label: want 1 got 0/);
    }
    // Events: the default line with every digit of the time, json in Go's field order, and
    // templates over Go's field names.
    const ev = ['events', '--since', String(since), '--until', String(until), '--filter', `container=${a}`];
    const lines = await sameAsDocker(ev);
    assert.match(lines.stdout, /container pause [0-9a-f]{64} \(image=[^,]+, name=[^,]+, tier=web\)\n/);
    await sameAsDocker([...ev, '--format', 'json']);
    await sameAsDocker([...ev, '--format', '{{json .}}']);
    const tpl = await sameAsDocker([...ev, '--filter', 'event=pause', '--format', '{{.Status}} {{.From}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Scope}}']);
    assert.equal(tpl.stdout, `pause ${env.image} container pause ${a} local\n`);
    // wait: exit codes as they come, the errors together at the end.
    const w = await sameAsDocker(['wait', 'berth-no-such-ctr', b], 1);
    assert.equal(w.stdout, '3\n');
    // rename: the daemon's refusal, then the CLI's own line; empty names refused before asking.
    const r = await sameAsDocker(['rename', a, b], 1);
    assert.match(r.stderr, /Conflict\..*\nError: failed to rename container named /);
    await sameAsDocker(['rename', a, ' '], 1);
  } finally {
    await env.docker(['rm', '-f', a, b]);
  }
  // run -d prints the ID before the start, so a failed start still names its container.
  const ours = await berth(['run', '-d', '--rm', env.image, 'berth-no-such-command']);
  assert.equal(ours.code, 127);
  assert.match(ours.stdout, /^[0-9a-f]{64}\n$/);
});

test('berth cp into a missing directory reports the daemon\'s error, not a broken pipe', { skip }, async () => {
  const name = uniq('bcpmiss');
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-cpmiss-'));
  try {
    await fsp.writeFile(join(dir, 'f'), 'x\n');
    // More than one pipe's worth: the daemon refuses it before reading, and still answers.
    await fsp.writeFile(join(dir, 'big'), Buffer.alloc(3 << 20, 1));
    assert.equal((await env.docker(['run', '-d', '--name', name, env.image, 'sleep', '60'])).code, 0);
    for (const src of ['f', 'big']) {
      const args = ['cp', join(dir, src), `${name}:/berth-missing/dir`];
      const ours = await sameAsDocker(args, 1);
      assert.match(ours.stderr, /Could not find the file \/berth-missing in container/);
    }
  } finally {
    await env.docker(['rm', '-f', name]);
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('berth run/exec -it and attach to a TTY container need a terminal on stdin, as the docker CLI checks', { skip }, async () => {
  const name = uniq('bnotty');
  try {
    assert.equal((await env.docker(['run', '-d', '-it', '--name', name, env.image, 'sh'])).code, 0);
    // The tests' stdin is a pipe.
    for (const args of [['run', '-it', '--rm', env.image, 'true'], ['exec', '-it', name, 'true'], ['attach', name]]) {
      const ours = await sameAsDocker(args, 1);
      assert.equal(ours.stderr, 'the input device is not a TTY\n', args.join(' '));
    }
    // Without -i, or detached, no terminal is needed.
    for (const args of [['run', '-t', '--rm', env.image, 'true'], ['exec', '-t', name, 'true'], ['exec', '-d', '-it', name, 'true']]) {
      const ours = await berth(args);
      assert.equal(ours.code, 0, `${args.join(' ')}: ${ours.stderr}`);
    }
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('berth logs and events take --since/--until in the docker CLI\'s forms and refuse others in its words', { skip }, async () => {
  const name = uniq('bsince');
  try {
    assert.equal((await env.docker(['run', '--name', name, env.image, 'sh', '-c', 'echo a; echo b'])).code, 0);
    for (const v of ['1h30m', '-1h', '0', '2020-01-02T03:04', '2099-01-01T00:00:00Z', 'bogus', '2026-13-01']) {
      for (const which of ['--since', '--until']) {
        await sameAsDocker(['logs', which, v, name], ['bogus', '2026-13-01'].includes(v) ? 1 : 0);
      }
    }
    const ours = await sameAsDocker(['events', '--since', 'bogus'], 1);
    assert.equal(ours.stderr, 'failed to parse value as time or duration: "bogus"\n');
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('berth exec --env-file, --privileged and -e NAME, and its errors, as the docker CLI', { skip }, async () => {
  const name = uniq('bexec');
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-exec-'));
  try {
    assert.equal((await env.docker(['run', '-d', '--name', name, env.image, 'sleep', '60'])).code, 0);
    await fsp.writeFile(join(dir, 'env'), 'FROM_FILE=1\n# note\n');
    const fromFile = await sameAsDocker(['exec', '--env-file', join(dir, 'env'), '-e', 'PATH', name, 'sh', '-c', 'echo $FROM_FILE; echo $PATH']);
    assert.match(fromFile.stdout, /^1\n\//);
    await sameAsDocker(['exec', '--privileged', name, 'true']);
    // An --env-file that cannot be read: exec says so plainly (exit 1); run and create with the hint (125).
    await sameAsDocker(['exec', '--env-file', join(dir, 'missing'), name, 'true'], 1);
    await sameAsDocker(['exec', '--env-file', dir, name, 'true'], 1);
    for (const cmd of ['run', 'create']) {
      await sameAsDocker([cmd, '--env-file', join(dir, 'missing'), env.image, 'true'], 125);
      await sameAsDocker([cmd, '--label-file', dir, env.image, 'true'], 125);
    }
    // Too few arguments: "requires at least" ends in "See '… --help'"; exactly/range in "Run".
    const few = await sameAsDocker(['exec', name], 1);
    assert.match(few.stderr, /\n\nSee 'berth exec --help' for more information\n$/);
    for (const args of [['stop'], ['rm'], ['inspect'], ['diff'], ['commit'], ['commit', 'a', 'b', 'c']]) await sameAsDocker(args, 1);
  } finally {
    await env.docker(['rm', '-f', name]);
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('berth stop/restart take --timeout (--time deprecated) and name flags in bad values as pflag does', { skip }, async () => {
  const name = uniq('btimeout');
  try {
    assert.equal((await env.docker(['create', '--name', name, env.image, 'true'])).code, 0);
    const old = await sameAsDocker(['stop', '--time', '1', name]);
    assert.equal(old.stdout, `Flag --time has been deprecated, use --timeout instead\n${name}\n`);
    await sameAsDocker(['restart', '--timeout', '0', name]);
    await sameAsDocker(['stop', '-t', 'x', name], 125);
    // With its shorthand whichever form was given.
    const long = await sameAsDocker(['restart', '--timeout=x', name], 125);
    assert.match(long.stderr, /^invalid argument "x" for "-t, --timeout" flag/);
    await sameAsDocker(['run', '-d=x', env.image], 125);
    await sameAsDocker(['stop', '--time', 'x', name], 125);
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('berth export/save check -o and commit its reference before asking the daemon, in the docker CLI\'s words', { skip }, async () => {
  const name = uniq('bexport');
  try {
    assert.equal((await env.docker(['run', '-d', '--name', name, env.image, 'sleep', '60'])).code, 0);
    for (const out of ['/berth-no-such-dir/x.tar', '/etc/passwd/x.tar', '/dev/null']) {
      const e = await sameAsDocker(['export', '-o', out, name], 1);
      assert.match(e.stderr, /^failed to export container: /);
      await sameAsDocker(['save', '-o', out, env.image], 1);
    }
    for (const ref of ['Bad:Ref', 'a:b:c', ':t']) await sameAsDocker(['commit', name, ref], 1);
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});

test('the daemon outlives a client that drops an image save midway', { skip }, async () => {
  const socketPath = env.host.replace(/^unix:\/\//, '');
  await new Promise<void>((res, rej) => {
    const req = http.get({ socketPath, path: `/v1.41/images/${encodeURIComponent(env.image)}/get` }, (r) => {
      r.once('data', () => { req.destroy(); res(); });
    });
    req.on('error', (e) => (req.destroyed ? res() : rej(e)));
  });
  // A second save, whole: the daemon is still there and still serves it.
  const again = await env.docker(['save', env.image], {});
  assert.equal(again.code, 0, again.stderr);
  assert.ok(again.stdout.length > 1024);
});

test('berth inspect refuses an unknown --type in the docker CLI\'s words', { skip }, async () => {
  const bad = await sameAsDocker(['inspect', '--type', 'bogus', env.image], 1);
  assert.match(bad.stderr, /^unknown type: "bogus": must be one of "config", "container", /);
  await sameAsDocker(['inspect', '--type', 'Image', env.image], 1);
});

test('berth cp names the path it could not find or use as the docker CLI does', { skip }, async () => {
  const name = uniq('bcpname');
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-cpname-'));
  try {
    await fsp.writeFile(join(dir, 'file'), 'x\n');
    assert.equal((await env.docker(['run', '-d', '--name', name, env.image, 'sleep', '60'])).code, 0);
    // The first missing directory of a source, not the file.
    const src = await sameAsDocker(['cp', join(dir, 'gone/deeper/f'), `${name}:/tmp`], 1);
    assert.equal(src.stderr, `lstat ${join(dir, 'gone')}: no such file or directory\n`);
    await sameAsDocker(['cp', join(dir, 'nosuch'), `${name}:/tmp`], 1);
    // A destination under a file.
    const dst = await sameAsDocker(['cp', `${name}:/etc/hostname`, join(dir, 'file/x')], 1);
    assert.equal(dst.stderr, `stat ${join(dir, 'file/x')}: not a directory\n`);
  } finally {
    await env.docker(['rm', '-f', name]);
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('berth run and start -a take --detach-keys as the docker CLI does', { skip }, async () => {
  const name = uniq('bkeys');
  try {
    const run = await sameAsDocker(['run', '--rm', '--detach-keys', 'ctrl-x,y', env.image, 'echo', 'hi']);
    assert.equal(run.stdout, 'hi\n');
    assert.equal((await env.docker(['create', '--name', name, env.image, 'echo', 'hi'])).code, 0);
    const start = await sameAsDocker(['start', '-a', '--detach-keys', 'ctrl-x,y', name]);
    assert.equal(start.stdout, 'hi\n');
  } finally {
    await env.docker(['rm', '-f', name]);
  }
});
