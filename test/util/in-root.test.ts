// Path resolution inside a container's filesystem (docker cp): symlinks and ".." stay inside the
// container, and paths under a mount are looked up in the mount's source, as the container sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostPathOf, mountAt, resolveInRoot, resolveInView } from '../../src/util/in-root.js';

test('a view maps container paths through the innermost mount; symlinks in a mount resolve in the container', async () => {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-inroot-'));
  try {
    const root = join(base, 'rootfs');
    const bind = join(base, 'bind');
    const inner = join(base, 'inner');
    await fsp.mkdir(join(root, 'etc'), { recursive: true });
    await fsp.mkdir(join(root, 'mnt', 'b'), { recursive: true });
    await fsp.mkdir(bind);
    await fsp.mkdir(inner);
    await fsp.writeFile(join(root, 'etc', 'passwd'), 'container\n');
    await fsp.writeFile(join(bind, 'f'), 'bound\n');
    // Planted in the bind source: an absolute link and a climbing one; both must stay in the container.
    await fsp.symlink('/etc/passwd', join(bind, 'abs'));
    await fsp.symlink('../../../../../../etc/passwd', join(bind, 'climb'));
    const view = { root, mounts: [{ dest: '/mnt/b', source: bind }, { dest: '/mnt/b/in', source: inner, readOnly: true }] };

    assert.equal(hostPathOf(view, '/'), root);
    assert.equal(hostPathOf(view, '/mnt/b'), bind);
    assert.equal(hostPathOf(view, '/mnt/b/f'), join(bind, 'f'));
    assert.equal(hostPathOf(view, '/mnt/bb'), join(root, 'mnt/bb'), 'a sibling with a common prefix is not under the mount');
    assert.equal(mountAt(view, '/mnt/b/in/x')?.source, inner, 'the innermost mount wins');
    assert.equal(mountAt(view, '/mnt/b/in/x')?.readOnly, true);

    assert.deepEqual(await resolveInView(view, '/mnt/b/f'), { path: '/mnt/b/f', host: join(bind, 'f') });
    assert.deepEqual(await resolveInView(view, '/mnt/b/abs'), { path: '/etc/passwd', host: join(root, 'etc', 'passwd') });
    assert.deepEqual(await resolveInView(view, '/mnt/b/climb'), { path: '/etc/passwd', host: join(root, 'etc', 'passwd') });
    assert.equal((await resolveInView(view, '/mnt/b/abs', false)).host, join(bind, 'abs'), 'the last link is kept when not followed');
    assert.equal(await resolveInRoot(root, '/mnt/../../../etc/passwd'), join(root, 'etc', 'passwd'));
  } finally {
    await fsp.rm(base, { recursive: true, force: true });
  }
});
