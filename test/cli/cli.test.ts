// End-to-end: bin/berth against a real berth daemon (and a real registry for pull/push/login).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry, registryAvailable, type TestRegistry } from '../helpers/registry.js';
import { berth, cliBuilt, dockerArchive, fixtureImage, pushFixture, tarEntries, tarOf, type Fixture } from './helpers.js';

const built = cliBuilt();
let d: TestDaemon | undefined;
let tmp = '';
let env: Record<string, string> = {};
let fx: Fixture;

before(async () => {
  if (!built) return;
  tmp = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  d = await startDaemon();
  env = { DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: join(tmp, 'docker-config') };
  fx = await fixtureImage('cli');
  const archive = await dockerArchive(fx, ['etest/fixture:1']);
  await writeFile(join(tmp, 'fixture.tar'), archive);
});

after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const skip = built ? false : 'run `npm run build` first (bin/berth loads dist/src/cli)';

test('load, images, tag, inspect, history, save, rmi', { skip }, async () => {
  const load = await berth(['load', '-i', join(tmp, 'fixture.tar')], { env });
  assert.equal(load.code, 0, load.stderr);
  assert.equal(load.stdout, 'Loaded image: etest/fixture:1\n');

  const tag = await berth(['tag', 'etest/fixture:1', 'etest/fixture:2'], { env });
  assert.equal(tag.code, 0, tag.stderr);

  const images = await berth(['images', 'etest/fixture'], { env });
  assert.equal(images.code, 0, images.stderr);
  const lines = images.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^REPOSITORY {6}TAG {7}IMAGE ID {7}CREATED {6,}SIZE$/);
  const shortId = fx.id.slice(7, 19);
  const rows = lines.slice(1).map((l) => l.split(/ {2,}/));
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]).sort(), [['etest/fixture', '1', shortId], ['etest/fixture', '2', shortId]]);
  assert.match(rows[0]![3]!, / ago$/);
  assert.match(rows[0]![4]!, /^\d+(\.\d+)?[kM]?B$/);

  const quiet = await berth(['image', 'ls', '-q', 'etest/fixture:1'], { env });
  assert.equal(quiet.stdout, `${shortId}\n`);
  const fmt = await berth(['image', 'list', '--format', '{{.Repository}}:{{.Tag}}', 'etest/fixture'], { env });
  assert.deepEqual(fmt.stdout.trim().split('\n').sort(), ['etest/fixture:1', 'etest/fixture:2']);
  const json = await berth(['images', '--format', 'json', 'etest/fixture:1'], { env });
  assert.equal(JSON.parse(json.stdout).ID, shortId);

  const insp = await berth(['inspect', '-f', '{{.Id}} {{json .Config.Cmd}} {{.Config.Cmd}} {{index .Config.Labels "org.example.marker"}} {{.Os}}', 'etest/fixture:1'], { env });
  assert.equal(insp.code, 0, insp.stderr);
  assert.equal(insp.stdout, `${fx.id} ["/hello"] [/hello] cli linux\n`);
  const full = await berth(['image', 'inspect', 'etest/fixture:1'], { env });
  const parsed = JSON.parse(full.stdout) as Array<{ Id: string; RepoTags: string[] }>;
  assert.equal(parsed.length, 1);
  assert.equal(parsed[0]!.Id, fx.id);
  assert.deepEqual([...parsed[0]!.RepoTags].sort(), ['etest/fixture:1', 'etest/fixture:2']);
  assert.match(full.stdout, /^\[\n {4}\{\n {8}"Id": /);

  const hist = await berth(['history', 'etest/fixture:1'], { env });
  assert.equal(hist.code, 0, hist.stderr);
  const hl = hist.stdout.trimEnd().split('\n');
  assert.match(hl[0]!, /^IMAGE {10}CREATED {6,}CREATED BY {6,}SIZE {6}COMMENT$/);
  assert.match(hl[1]!, new RegExp(`^${shortId} +\\S.* ago +/bin/sh -c #\\(nop\\) ADD file:cli in / +\\S+B`));
  const histJson = await berth(['history', '--format', '{{.CreatedBy}}|{{.Size}}', '-H=false', '--no-trunc', 'etest/fixture:1'], { env });
  assert.match(histJson.stdout, /^\/bin\/sh -c #\(nop\) ADD file:cli in \/ \|\d+\n$/);

  const out = join(tmp, 'saved.tar');
  const save = await berth(['save', '-o', out, 'etest/fixture:1'], { env });
  assert.equal(save.code, 0, save.stderr);
  const entries = await tarEntries(await readFile(out));
  assert.ok(entries.includes('manifest.json'), entries.join(','));
  const piped = await berth(['image', 'save', 'etest/fixture:2'], { env });
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok((await tarEntries(piped.out)).includes('manifest.json'));

  const rmi = await berth(['rmi', 'etest/fixture:2'], { env });
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.equal(rmi.stdout, 'Untagged: etest/fixture:2\n');
  const left = await berth(['images', '--format', '{{.Tag}}', 'etest/fixture'], { env });
  assert.equal(left.stdout, '1\n');
});

test('daemon errors: docker wording on stderr, exit 1', { skip }, async () => {
  const rmi = await berth(['rmi', 'etest/nope:9'], { env });
  assert.equal(rmi.code, 1);
  assert.match(rmi.stderr, /^Error response from daemon: No such image: etest\/nope:9\n$/);
  const insp = await berth(['inspect', 'etest/nope:9'], { env });
  assert.equal(insp.code, 1);
  assert.equal(insp.stdout, '[]\n');
  assert.equal(insp.stderr, 'Error: No such object: etest/nope:9\n');
  const iinsp = await berth(['image', 'inspect', 'etest/nope:9'], { env });
  assert.equal(iinsp.code, 1);
  assert.match(iinsp.stderr, /^Error response from daemon: .*No such image/);
  const hist = await berth(['history', 'etest/nope:9'], { env });
  assert.equal(hist.code, 1);
  assert.match(hist.stderr, /^Error response from daemon: /);
  // A name without a tag is reported with Docker's default tag.
  const untagged = await berth(['image', 'inspect', 'etest/nope'], { env });
  assert.equal(untagged.stderr, 'Error response from daemon: No such image: etest/nope:latest\n');
});

test('usage errors: 125 for flags, 1 for arguments, unknown commands', { skip }, async () => {
  const flagErr = await berth(['images', '--bogus'], { env });
  assert.equal(flagErr.code, 125);
  assert.equal(flagErr.stderr, 'unknown flag: --bogus\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun \'berth images --help\' for more information\n');
  const argErr = await berth(['pull'], { env });
  assert.equal(argErr.code, 1);
  assert.match(argErr.stderr, /^berth: 'berth pull' requires 1 argument\n\nUsage: {2}berth pull \[OPTIONS\] NAME/);
  const unknown = await berth(['frobnicate'], { env });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command: berth frobnicate/);
  const help = await berth(['pull', '--help'], { env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: {2}berth pull \[OPTIONS\] NAME\[:TAG\|@DIGEST\]/);
  assert.match(help.stdout, /-a, --all-tags/);
  const main = await berth([], { env });
  assert.equal(main.code, 0);
  assert.match(main.stdout, /Usage: {2}berth \[OPTIONS\] COMMAND/);
  const badRef = await berth(['pull', 'etest/UPPER'], { env });
  assert.equal(badRef.code, 1);
  assert.equal(badRef.stderr, 'invalid reference format: repository name (etest/UPPER) must be lowercase\n');
  // tag says which argument, as the docker CLI does.
  const badTag = await berth(['tag', 'etest/fixture:1', 'etest/UPPER:x'], { env });
  assert.equal(badTag.code, 1);
  assert.equal(badTag.stderr, 'Error parsing reference: "etest/UPPER:x" is not a valid repository/tag: invalid reference format: repository name (etest/UPPER) must be lowercase\n');
  const noFile = await berth(['load', '-i', join(tmp, 'missing.tar')], { env });
  assert.equal(noFile.code, 1);
  assert.equal(noFile.stderr, `open ${join(tmp, 'missing.tar')}: no such file or directory\n`);
  const noDaemon = await berth(['images'], { env: { DOCKER_HOST: `unix://${join(tmp, 'none.sock')}` } });
  assert.equal(noDaemon.code, 1);
  assert.match(noDaemon.stderr, /Cannot connect to the Berth daemon at unix:\/\/.*none\.sock\. Is the berth daemon running\?/);
});

test('import from a file and from stdin', { skip }, async () => {
  const rootfs = await tarOf({ 'data/': '', 'data/x.txt': 'imported\n' });
  await writeFile(join(tmp, 'rootfs.tar'), rootfs);
  const a = await berth(['import', join(tmp, 'rootfs.tar'), 'etest/imported:file'], { env });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const b = await berth(['image', 'import', '-m', 'from stdin', '-', 'etest/imported:stdin'], { env, input: rootfs });
  assert.equal(b.code, 0, b.stderr);
  const list = await berth(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'etest/imported'], { env });
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split(' ')[0]).sort(), ['etest/imported:file', 'etest/imported:stdin']);
  assert.equal(list.stdout.trim().split('\n').find((l) => l.startsWith('etest/imported:file'))!.split(' ')[1], a.stdout.trim().slice(7, 19));
  const rm1 = await berth(['rmi', 'etest/imported:file', 'etest/imported:stdin'], { env });
  assert.equal(rm1.code, 0, rm1.stderr);
  assert.match(rm1.stdout, /Untagged: etest\/imported:file\nDeleted: sha256:/);
});

test('version, info, system df, image prune', { skip }, async () => {
  const v = await berth(['version'], { env });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^Client:\n Version: +\S+\n/);
  assert.match(v.stdout, /\nServer:.*\n Engine:\n {2}Version: +\S+\n {2}API version: +1\.\d+/);
  const vf = await berth(['version', '-f', '{{.Server.ApiVersion}}'], { env });
  assert.match(vf.stdout, /^1\.\d+\n$/);
  const info = await berth(['info'], { env });
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /\nServer:\n Containers: \d+\n/);
  const infoF = await berth(['system', 'info', '--format', '{{json .OSType}}'], { env });
  assert.equal(infoF.stdout, '"linux"\n');
  const df = await berth(['system', 'df'], { env });
  assert.equal(df.code, 0, df.stderr);
  const dl = df.stdout.trimEnd().split('\n');
  assert.match(dl[0]!, /^TYPE {12}TOTAL {5}ACTIVE {4}SIZE {6}RECLAIMABLE$/);
  assert.match(dl[1]!, /^Images {10}\d+ +\d+ +\S+B +\S+B/);
  assert.equal(dl.length, 5);
  const prune = await berth(['image', 'prune', '-f'], { env });
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /Total reclaimed space: \S+B\n$/);
  const declined = await berth(['image', 'prune'], { env, input: 'n\n' });
  assert.equal(declined.code, 0);
  assert.match(declined.stdout, /^WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\] $/);
});

test('push, pull and login against a registry', { skip: skip || (!registryAvailable() && 'docker-registry not installed') }, async (t) => {
  let reg: TestRegistry | undefined;
  try {
    reg = await startRegistry({ htpasswd: { user: 'berth', pass: 's3cret' } });
    const config = join(tmp, 'login-config');
    const e = { ...env, DOCKER_CONFIG: config };
    // Wrong password: the daemon checks it against the registry.
    const bad = await berth(['login', '-u', 'berth', '--password-stdin', reg.host], { env: e, input: 'wrong\n' });
    if (bad.code === 1 && /could not be loaded|not implemented|page not found/i.test(bad.stderr)) {
      t.skip(`daemon cannot reach registries yet: ${bad.stderr.trim()}`);
      return;
    }
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /^Error response from daemon: /);
    const ok = await berth(['login', '-u', 'berth', '--password-stdin', reg.host], { env: e, input: 's3cret\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded\n$/);
    const cfg = JSON.parse(await readFile(join(config, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString(), 'berth:s3cret');

    const ref = `${reg.host}/etest/fixture:1`;
    assert.equal((await berth(['tag', 'etest/fixture:1', ref], { env: e })).code, 0);
    const push = await berth(['push', ref], { env: e });
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.host}/etest/fixture\\]`));
    assert.match(push.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
    assert.equal((await berth(['rmi', ref], { env: e })).code, 0);
    const pull = await berth(['pull', ref], { env: e });
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /^1: Pulling from (\S+\/)?etest\/fixture\n/);
    assert.match(pull.stdout, /\nDigest: sha256:[0-9a-f]{64}\n/);
    assert.ok(pull.stdout.endsWith(`\n${ref}\n`), pull.stdout);
    const q = await berth(['pull', '-q', ref], { env: e });
    assert.equal(q.stdout, `${ref}\n`);

    // A second image straight into the registry; pull -a takes every tag.
    const other = await fixtureImage('other');
    await assert.rejects(pushFixture(reg.host, 'etest/other', 'v1', other), /401/);
    const missing = await berth(['pull', `${reg.host}/etest/fixture:nope`], { env: e });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found|unknown/i);

    const out = await berth(['logout', reg.host], { env: e });
    assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
    const again = await berth(['logout', reg.host], { env: e });
    assert.equal(again.stdout, `Not logged in to ${reg.host}\n`);
    const denied = await berth(['pull', ref], { env: e });
    assert.equal(denied.code, 1, 'anonymous pull from an htpasswd registry must fail');
    await mkdir(config, { recursive: true });
  } finally {
    await reg?.stop();
  }
});
