// The filesystem driver's upload writer: the block-aligned middle of large writes bypasses the page
// cache (O_DIRECT), the unaligned head and tail do not, and memory it cannot write directly falls
// back to buffered writes — the bytes on disk are the same every way. Then whole uploads through
// the server with chunk boundaries that are not block-aligned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FsDriver, alignedSharedBuffer, DIRECT_ALIGN } from '../../src/registry/server/storage.js';
import { SlabPool } from '../../src/registry/server/slabs.js';
import { startRegistry, request, sha256 } from './helpers.js';

/** Does this directory's filesystem take O_DIRECT opens (tmpfs does not)? */
async function directSupported(dir: string): Promise<boolean> {
  const p = join(dir, 'probe');
  await writeFile(p, '');
  const fh = await open(p, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
  await fh?.close();
  return fh !== undefined;
}

test('append writer: aligned middle goes direct, head and tail buffered, same bytes on disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-storage-'));
  try {
    const driver = new FsDriver(dir);
    const canDirect = await directSupported(dir);
    const start = randomBytes(1000); // the file ends mid-block, as after a small PATCH
    await writeFile(join(dir, 'data'), start);
    const w = await driver.appendWriter('data');
    // Laid out as the store does: the byte for file offset X at X mod 4096 of a page-aligned buffer.
    const len = 3 * 1024 * 1024 + 77;
    const lead = start.length % DIRECT_ALIGN;
    const slab = alignedSharedBuffer(lead + len);
    const body = randomBytes(len);
    body.copy(slab, lead);
    await w.writev([slab.subarray(lead, lead + len)]);
    // A small write after it (buffered) and one more large one that starts unaligned.
    const small = randomBytes(5000);
    await w.writev([small]);
    const pos2 = start.length + len + small.length;
    const len2 = 300 * 1024 + 5;
    const slab2 = alignedSharedBuffer(pos2 % DIRECT_ALIGN + len2);
    const body2 = randomBytes(len2);
    body2.copy(slab2, pos2 % DIRECT_ALIGN);
    await w.writev([slab2.subarray(pos2 % DIRECT_ALIGN, pos2 % DIRECT_ALIGN + len2)]);
    await w.datasync();
    const direct = w.directBytes;
    await w.close();
    assert.deepEqual(await readFile(join(dir, 'data')), Buffer.concat([start, body, small, body2]));
    if (canDirect) {
      // Everything but the partial blocks at either end of each large write.
      const mid1 = Math.floor((len - (DIRECT_ALIGN - lead)) / DIRECT_ALIGN) * DIRECT_ALIGN;
      const head2 = (DIRECT_ALIGN - (pos2 % DIRECT_ALIGN)) % DIRECT_ALIGN;
      const mid2 = Math.floor((len2 - head2) / DIRECT_ALIGN) * DIRECT_ALIGN;
      assert.equal(direct, mid1 + mid2);
    } else {
      assert.equal(direct, 0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('append writer: memory that is not block-aligned is written through the page cache instead', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-storage-'));
  try {
    const driver = new FsDriver(dir);
    await writeFile(join(dir, 'data'), '');
    const w = await driver.appendWriter('data');
    const len = 2 * 1024 * 1024;
    const slab = alignedSharedBuffer(len + 1);
    const body = randomBytes(len);
    body.copy(slab, 1);
    // File offset 0, but the memory starts 1 byte past a page: the kernel refuses it (EINVAL).
    await w.writev([slab.subarray(1, 1 + len)]);
    // The writer keeps working (buffered from now on).
    const more = randomBytes(200 * 1024);
    await w.writev([more]);
    assert.equal(w.directBytes, 0);
    await w.close();
    assert.deepEqual(await readFile(join(dir, 'data')), Buffer.concat([body, more]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('uploads: monolithic and chunked with unaligned chunk sizes store exactly the bytes sent', async () => {
  const R = await startRegistry();
  try {
    // Monolithic: POST, then PUT with the whole body.
    const blob = randomBytes(5 * 1024 * 1024 + 123);
    const d = sha256(blob);
    let r = await request(R.port, 'POST', '/v2/dio/app/blobs/uploads/');
    assert.equal(r.status, 202);
    r = await request(R.port, 'PUT', `${r.headers.location}${r.headers.location!.includes('?') ? '&' : '?'}digest=${d}`, {
      body: blob, headers: { 'content-type': 'application/octet-stream', 'content-length': blob.length },
    });
    assert.equal(r.status, 201, r.body.toString());
    r = await request(R.port, 'GET', `/v2/dio/app/blobs/${d}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(blob));

    // Chunked: three PATCHes ending mid-block, then PUT with the last bytes.
    const big = randomBytes(3 * 1024 * 1024 + 4097);
    const cuts = [1_000_003, 2_500_001, 3 * 1024 * 1024];
    r = await request(R.port, 'POST', '/v2/dio/app/blobs/uploads/');
    let loc = r.headers.location!;
    let from = 0;
    for (const to of cuts) {
      r = await request(R.port, 'PATCH', loc, {
        body: big.subarray(from, to),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}`, 'content-length': to - from },
      });
      assert.equal(r.status, 202, r.body.toString());
      assert.equal(r.headers.range, `0-${to - 1}`);
      loc = r.headers.location!;
      from = to;
    }
    const bd = sha256(big);
    r = await request(R.port, 'PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${bd}`, {
      body: big.subarray(from), headers: { 'content-type': 'application/octet-stream', 'content-length': big.length - from },
    });
    assert.equal(r.status, 201, r.body.toString());
    r = await request(R.port, 'GET', `/v2/dio/app/blobs/${bd}`);
    assert.ok(r.body.equals(big));

    // A wrong digest is still refused after direct writes.
    r = await request(R.port, 'POST', '/v2/dio/app/blobs/uploads/');
    r = await request(R.port, 'PUT', `${r.headers.location}${r.headers.location!.includes('?') ? '&' : '?'}digest=${sha256(Buffer.from('other'))}`, {
      body: blob, headers: { 'content-type': 'application/octet-stream', 'content-length': blob.length },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json().errors[0].code, 'DIGEST_INVALID');
  } finally {
    await R.close();
  }
});

test('slab pool: page-aligned, non-overlapping slabs from shared arenas; idle extra arenas are dropped', () => {
  const size = (1 << 20) + (256 << 10) + DIRECT_ALIGN;
  const pool = new SlabPool(size);
  const slabs = Array.from({ length: 40 }, () => pool.take(size - 10));
  assert.equal(pool.arenaCount, 3);
  for (const [i, b] of slabs.entries()) {
    assert.equal(b.length, size);
    assert.equal(b.byteOffset % DIRECT_ALIGN, 0);
    assert.ok(b.buffer instanceof SharedArrayBuffer);
    b.fill(i);
  }
  // Each slab still holds its own fill: none overlaps another.
  for (const [i, b] of slabs.entries()) assert.ok(b.every((x) => x === i), `slab ${i} was overwritten`);
  // Larger than a slab: its own buffer, not pooled.
  const big = pool.take(size + 1);
  assert.ok(big.length >= size + 1);
  pool.give(big);
  assert.equal(pool.arenaCount, 3);
  for (const b of slabs) pool.give(b);
  assert.equal(pool.arenaCount, 1);
  // Reused, not made anew.
  const again = pool.take(100);
  assert.ok(slabs.includes(again));
});
