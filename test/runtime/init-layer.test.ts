// The init layer shared by the containers of a daemon root (rootfs.ts, ensureSharedInitLayer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSharedInitLayer } from '../../src/runtime/rootfs.js';

test('shared init layer: made once with the special paths, crash leftovers swept', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-init-layer-'));
  try {
    const path = join(root, 'init-layer-1');
    // What a daemon killed while making it left behind.
    mkdirSync(join(root, 'init-layer-1.tmp-1-2'));
    writeFileSync(join(root, 'init-layer-1.tmp-1-2', 'half'), '');
    assert.equal(ensureSharedInitLayer(path), path);
    assert.deepEqual(readdirSync(root), ['init-layer-1']);
    for (const d of ['dev', 'dev/pts', 'dev/shm', 'proc', 'sys', 'etc']) assert.ok(lstatSync(join(path, d)).isDirectory(), d);
    for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv', 'dev/console']) assert.ok(lstatSync(join(path, f)).isFile(), f);
    // Docker's init layer modes: 0755 for all of them.
    for (const e of ['dev', 'dev/shm', 'proc', 'sys', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv', 'dev/console']) assert.equal(lstatSync(join(path, e)).mode & 0o7777, 0o755, e);
    assert.equal(readlinkSync(join(path, 'etc/mtab')), '/proc/mounts');
    // Present: taken as it is.
    const before = lstatSync(path).ino;
    assert.equal(ensureSharedInitLayer(path), path);
    assert.equal(lstatSync(path).ino, before);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
