// Auto-start: as root, with no host override and nothing on the default socket, the CLI starts
// `berth daemon` in the background once and proceeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cliBuilt } from './helpers.js';

const DEFAULT_SOCKET = '/run/berth/berth.sock';

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const r = http.get({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    r.on('error', () => resolve(false));
    r.on('timeout', () => { r.destroy(); resolve(false); });
  });
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('the CLI auto-starts the daemon on the default socket', async (t) => {
  if (!cliBuilt()) { t.skip('run `npm run build` first'); return; }
  if (process.getuid?.() !== 0) { t.skip('auto-start applies to root only'); return; }
  if (await answers(DEFAULT_SOCKET)) { t.skip(`a daemon already answers on ${DEFAULT_SOCKET}`); return; }
  const dir = await mkdtemp(join(tmpdir(), 'berth-autostart-'));
  const root = join(dir, 'root');
  t.after(async () => {
    // Stop the daemon we caused to start (its pid is in the root lock).
    const lock = await readFile(join(root, 'daemon.lock'), 'utf8').catch(() => '');
    const pid = Number(lock.split(' ')[0]);
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });
  // NODE_EXTRA_CA_CERTS as a CLI started through bin/berth has it: moved aside. The daemon's stays aside too.
  const extraCa = join(dir, 'extra-ca.pem');
  await writeFile(extraCa, '');
  const env = { BERTH_AUTOSTART_ARGS: `--root ${root} --exec-root ${join(dir, 'exec')}`, BERTH_EXTRA_CA_CERTS: extraCa };

  const first = await berth(['images'], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^Starting the berth daemon in the background \(logs: \S+\)\n$/);
  assert.match(first.stdout, /^REPOSITORY {3}TAG {7}IMAGE ID {3}CREATED {3}SIZE\n$/);
  assert.ok(existsSync(join(root, 'daemon.lock')), 'daemon runs on the root we passed');
  const pid = Number((await readFile(join(root, 'daemon.lock'), 'utf8')).split(' ')[0]);
  const daemonEnv = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  assert.ok(daemonEnv.includes(`BERTH_EXTRA_CA_CERTS=${extraCa}`), 'the daemon knows the extra CAs');
  assert.ok(!daemonEnv.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')), 'node does not parse them at start');
  const flags = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  assert.ok(flags.includes('--max-semi-space-size=1') && flags.includes('--expose-gc'), flags.join(' '));

  const second = await berth(['version', '--format', '{{.Server.ApiVersion}}'], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stderr, '', 'no second start');
  assert.match(second.stdout, /^1\.\d+\n$/);

  // An explicit host never auto-starts anything.
  const explicit = await berth(['-H', `unix://${join(dir, 'nothing.sock')}`, 'images'], { env });
  assert.equal(explicit.code, 1);
  assert.doesNotMatch(explicit.stderr, /Starting/);
});
