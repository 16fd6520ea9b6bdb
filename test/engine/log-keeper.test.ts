// Unit tests of max-file rotation (LogKeeper) against conmon's way of starting a log over (a new
// file renamed over the old), and of reading a rotated log: oldest file first, tail across files,
// a file seen twice read once, and a follow that goes on into the new file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogKeeper, rotatedLogs } from '../../src/engine/containers/log-keeper.js';
import { readLogs, type LogEntry } from '../../src/engine/containers/logs.js';

/** conmon past max-size: the new file is written aside, then renamed over the log. */
function conmonStartsOver(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Run `fn` on a log path in a fresh directory, removed afterwards. */
async function withLog(fn: (log: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-logkeep-'));
  try { await fn(join(dir, 'container.log')); } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** readLogs' options for reading everything once. */
const ALL = { stdout: true, stderr: true, follow: false, timestamps: false };

const line = (n: number) => `2026-11-30T04:00:00.${String(n).padStart(9, '0')}Z stdout F line-${n}\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');
const texts = (es: LogEntry[]) => es.map((e) => e.data.toString().trim());

test('LogKeeper keeps max-file files: the replaced ones move to .1, .2, …; the oldest goes; stop drops only its link', async () => {
  await withLog(async (log) => {
    writeFileSync(log, 'a');
    const k = new LogKeeper(log, 3);
    k.sync();
    assert.ok(existsSync(`${log}.cur`));
    k.sync(); // nothing changed: nothing moves
    assert.deepEqual(await rotatedLogs(log), []);
    conmonStartsOver(log, 'b');
    k.sync();
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'a');
    conmonStartsOver(log, 'c');
    k.sync();
    conmonStartsOver(log, 'd');
    k.sync();
    assert.deepEqual([`${log}.2`, `${log}.1`, log].map((f) => readFileSync(f, 'utf8')), ['b', 'c', 'd']);
    assert.ok(!existsSync(`${log}.3`), 'max-file=3: two rotated files and the current one');
    assert.deepEqual(await rotatedLogs(log), [`${log}.2`, `${log}.1`]);
    // Appends to the current file show through the link (it is the same file).
    appendFileSync(log, 'e');
    assert.equal(readFileSync(`${log}.cur`, 'utf8'), 'de');
    k.stop();
    assert.ok(!existsSync(`${log}.cur`));
    assert.equal(readFileSync(log, 'utf8'), 'de');
  });
});

test('LogKeeper catches up a rotation made while nobody watched, and follows one through its watch', async () => {
  await withLog(async (log) => {
    writeFileSync(log, 'old');
    linkSync(log, `${log}.cur`); // left by a daemon that was killed
    conmonStartsOver(log, 'new');
    const k = new LogKeeper(log, 2);
    k.start();
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'old');
    conmonStartsOver(log, 'newer');
    for (let i = 0; i < 100 && readFileSync(`${log}.1`, 'utf8') !== 'new'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'new');
    assert.deepEqual(await rotatedLogs(log), [`${log}.1`], 'max-file=2: one rotated file');
    k.stop();
  });
});

test('max-file=1 keeps nothing but the current file', async () => {
  await withLog(async (log) => {
    writeFileSync(log, 'a');
    const k = new LogKeeper(log, 1);
    k.sync();
    conmonStartsOver(log, 'b');
    k.sync();
    assert.ok(!existsSync(`${log}.1`));
    k.stop();
  });
});

test('readLogs reads the rotated files oldest first, tails across them, and reads a file linked twice once', async () => {
  await withLog(async (log) => {
    writeFileSync(`${log}.2`, lines(0, 2));
    writeFileSync(`${log}.1`, lines(3, 5));
    writeFileSync(log, lines(6, 7));
    linkSync(log, `${log}.3`); // the same file under another rotated name: not read twice
    const all: LogEntry[] = [];
    await readLogs(log, ALL, (e) => { all.push(e); }, undefined, new AbortController().signal);
    assert.deepEqual(texts(all), Array.from({ length: 8 }, (_, i) => `line-${i}`));
    const tail: LogEntry[] = [];
    await readLogs(log, { ...ALL, tail: 4 }, (e) => { tail.push(e); }, undefined, new AbortController().signal);
    assert.deepEqual(texts(tail), ['line-4', 'line-5', 'line-6', 'line-7']);
  });
});

test('readLogs following: the file conmon renames in is read from its start, after the end of the old one', async () => {
  await withLog(async (log) => {
    writeFileSync(log, lines(0, 1));
    const got: LogEntry[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => { stop = r; });
    const reading = readLogs(log, { ...ALL, follow: true }, (e) => { got.push(e); }, stopped, new AbortController().signal);
    const until = async (n: number) => { for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10)); };
    await until(2);
    appendFileSync(log, line(2)); // written to the old file just before it is replaced
    conmonStartsOver(log, lines(3, 4));
    await until(5);
    appendFileSync(log, line(5));
    await until(6);
    stop();
    await reading;
    assert.deepEqual(texts(got), Array.from({ length: 6 }, (_, i) => `line-${i}`));
  });
});

test('readLogs waits for a reader that is behind (emit returns a promise) before reading on', async () => {
  await withLog(async (log) => {
    writeFileSync(`${log}.1`, lines(0, 99));
    writeFileSync(log, lines(100, 199));
    let emitted = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const reading = readLogs(log, ALL, (e) => {
      emitted++;
      return e.data.toString().startsWith('line-10\n') ? gate : undefined;
    }, undefined, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(emitted, 11, 'nothing more is read while the reader is behind');
    release();
    await reading;
    assert.equal(emitted, 200);
    // An aborted read stops at the next chunk.
    const ac = new AbortController();
    ac.abort();
    let after = 0;
    await readLogs(log, ALL, () => { after++; }, undefined, ac.signal);
    assert.equal(after, 0);
  });
});
