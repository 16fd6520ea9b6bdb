// conmon k8s-file logs: parsing, tail/since, partial lines and following a live container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseLogLine, readLog, type LogEntry } from '../../src/runtime/logs.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { HAVE_TOOLS, IS_ROOT, makeBusyboxRootfs, randomId, tempDir, writeBundle } from './helpers.js';

const skip = !HAVE_TOOLS ? 'runc, conmon or busybox-static missing' : !IS_ROOT ? 'needs root' : false;

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

test('parseLogLine', () => {
  const e = parseLogLine('2026-11-28T17:13:36.488391036+00:00 stdout F hi there');
  assert.equal(e?.stream, 'stdout');
  assert.equal(e?.partial, false);
  assert.equal(e?.text, 'hi there');
  assert.equal(e?.timeText, '2026-11-28T17:13:36.488391036+00:00');
  assert.equal(e?.time.toISOString(), '2026-11-28T17:13:36.488Z');
  assert.equal(parseLogLine('2026-11-28T17:13:36.488391036+00:00 stderr P ')?.partial, true);
  assert.equal(parseLogLine('2026-11-28T17:13:36.488391036+00:00 stderr P ')?.text, '');
  assert.equal(parseLogLine('garbage'), undefined);
  assert.equal(parseLogLine('notatime stdout F x'), undefined);
});

test('readLog: all, tail, since', async (t) => {
  const dir = await tempDir('berth-logs-');
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'log');
  await fsp.writeFile(p, [
    '2026-01-01T00:00:01.000000000+00:00 stdout F one',
    '2026-01-01T00:00:02.000000000+00:00 stderr F two',
    '2026-01-01T00:00:03.000000000+00:00 stdout P thr',
    '2026-01-01T00:00:03.000000001+00:00 stdout F ee',
  ].join('\n') + '\n');
  assert.deepEqual((await collect(readLog(p))).map((e) => e.text), ['one', 'two', 'thr', 'ee']);
  assert.deepEqual((await collect(readLog(p, { tail: 2 }))).map((e) => e.text), ['thr', 'ee']);
  assert.deepEqual((await collect(readLog(p, { tail: 0 }))).map((e) => e.text), []);
  assert.deepEqual((await collect(readLog(p, { since: new Date('2026-01-01T00:00:02Z') }))).map((e) => e.text), ['two', 'thr', 'ee']);
  assert.deepEqual(await collect(readLog(join(dir, 'missing'))), []);
});

test('readLog follows a running container until it exits; long lines arrive as partial entries', { skip }, async (t) => {
  const dir = await tempDir('berth-logs-');
  const rt = new Runtime({ execRoot: join(dir, 'exec') });
  const id = randomId();
  t.after(async () => {
    await rt.delete(id, { force: true }).catch(() => {});
    await fsp.rm(dir, { recursive: true, force: true });
  });
  await makeBusyboxRootfs(join(dir, 'rootfs'));
  await writeBundle(dir, { id, cmd: ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.1; done; head -c 20000 /dev/zero | tr "\\0" a; echo; echo end >&2'] });
  const logPath = join(dir, 'ctr.log');
  await rt.create({ id, bundle: dir, tty: false, stdin: false, logPath });
  await rt.start(id);
  const entries = await collect(readLog(logPath, { follow: true, done: rt.waitExit(id) }));
  const stdout = entries.filter((e) => e.stream === 'stdout');
  assert.deepEqual(stdout.slice(0, 3).map((e) => e.text), ['line1', 'line2', 'line3']);
  // Reassemble: P entries continue, F ends the line.
  const lines: string[] = [];
  let cur = '';
  for (const e of stdout.slice(3)) { cur += e.text; if (!e.partial) { lines.push(cur); cur = ''; } }
  assert.deepEqual(lines.map((l) => l.length), [20000]);
  assert.ok(stdout.slice(3).some((e) => e.partial), 'long line split into partial entries');
  assert.deepEqual(entries.filter((e) => e.stream === 'stderr').map((e) => e.text), ['end']);
});
