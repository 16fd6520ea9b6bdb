// The in-process `runc delete` of an exited container (runtime/runc-delete.ts): what it removes, and
// every case it leaves to runc. Plain directories stand in for cgroups (rmdir of a non-empty one
// fails as a cgroup with processes or child cgroups does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteStoppedRunc } from '../../src/runtime/runc-delete.js';

function fixture(state: (cg: string) => Record<string, unknown>) {
  const base = mkdtempSync(join(tmpdir(), 'berth-runc-delete-'));
  const root = join(base, 'runc');
  const cg = join(base, 'cgroup');
  const id = 'c1';
  mkdirSync(join(root, id), { recursive: true });
  for (const h of ['memory', 'pids', 'unified']) mkdirSync(join(cg, h, 'berth', id), { recursive: true });
  writeFileSync(join(root, id, 'state.json'), JSON.stringify(state(cg)));
  return { base, root, cg, id, close: () => rmSync(base, { recursive: true, force: true }) };
}

const paths = (cg: string, id = 'c1') => ({
  '': `${cg}/unified/berth/${id}`, memory: `${cg}/memory/berth/${id}`, pids: `${cg}/pids/berth/${id}`,
  // Controllers mounted together appear once per name with the same path.
  cpu: `${cg}/memory/berth/${id}`,
});

test('deleteStoppedRunc: removes the cgroups runc recorded and the state directory', async () => {
  const f = fixture((cg) => ({ id: 'c1', init_process_pid: 0, cgroup_paths: paths(cg), config: { Hooks: { poststop: null } } }));
  try {
    assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), true);
    assert.equal(existsSync(join(f.root, f.id)), false);
    for (const p of Object.values(paths(f.cg))) assert.equal(existsSync(p), false, p);
    // The parent cgroup stays (other containers live there).
    assert.equal(existsSync(join(f.cg, 'memory', 'berth')), true);
    // Gone already: nothing to do, and that is success (as runc's "does not exist").
    assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), true);
  } finally {
    f.close();
  }
});

test('deleteStoppedRunc: a cgroup that cannot be removed leaves the rest to runc', async () => {
  const f = fixture((cg) => ({ id: 'c1', init_process_pid: 0, cgroup_paths: paths(cg) }));
  try {
    // A child cgroup (or, on a real cgroup, a process left in it): rmdir fails.
    mkdirSync(join(f.cg, 'pids', 'berth', f.id, 'child'));
    assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), false);
    // The state is still there for `runc delete` to act on.
    assert.equal(existsSync(join(f.root, f.id, 'state.json')), true);
  } finally {
    f.close();
  }
});

test('deleteStoppedRunc: left to runc when the init process lives, hooks are set, or paths are odd', async () => {
  // Our own pid with its real start time: a live init process.
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const cases: Array<[string, (cg: string) => Record<string, unknown>]> = [
    ['live init', (cg) => ({ id: 'c1', init_process_pid: process.pid, init_process_start: start, cgroup_paths: paths(cg) })],
    ['live pid, start time unknown', (cg) => ({ id: 'c1', init_process_pid: process.pid, cgroup_paths: paths(cg) })],
    ['poststop hook', (cg) => ({ id: 'c1', cgroup_paths: paths(cg), config: { Hooks: { poststop: [{ path: '/bin/true' }] } } })],
    ['path outside the cgroup root', (cg) => ({ id: 'c1', cgroup_paths: { ...paths(cg), pids: '/tmp/elsewhere' } })],
    ['path with ..', (cg) => ({ id: 'c1', cgroup_paths: { ...paths(cg), pids: `${cg}/pids/../x` } })],
    ['another container\'s state', (cg) => ({ id: 'c2', cgroup_paths: paths(cg) })],
  ];
  for (const [what, state] of cases) {
    const f = fixture(state);
    try {
      assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), false, what);
      assert.equal(existsSync(join(f.root, f.id, 'state.json')), true, what);
      for (const p of Object.values(paths(f.cg))) assert.equal(existsSync(p), true, `${what}: ${p}`);
    } finally {
      f.close();
    }
  }
  // A pid that is not the recorded process (start time differs: reused) counts as gone.
  const f = fixture((cg) => ({ id: 'c1', init_process_pid: process.pid, init_process_start: '1', cgroup_paths: paths(cg) }));
  try {
    assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), true);
  } finally {
    f.close();
  }
});

test('deleteStoppedRunc: unreadable state is left to runc', async () => {
  const f = fixture(() => ({}));
  try {
    writeFileSync(join(f.root, f.id, 'state.json'), '{not json');
    assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), false);
    // A directory without state.json is not ours to remove either.
    rmSync(join(f.root, f.id, 'state.json'));
    assert.equal(await deleteStoppedRunc(f.root, f.id, f.cg), false);
    assert.equal(existsSync(join(f.root, f.id)), true);
  } finally {
    f.close();
  }
});
