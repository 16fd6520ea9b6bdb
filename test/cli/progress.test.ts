// Progress rendering of pull/push streams: plain lines off a terminal, in-place redraw on one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressPrinter, progressText } from '../../src/cli/format/progress.js';
import type { ProgressMessage } from '../../src/api/progress.js';

function sink(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  return { out: { isTTY, columns, write: (s: string) => { chunks.push(s); return true; } }, text: () => chunks.join('') };
}

const PULL: ProgressMessage[] = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 1_200_000, total: 4_500_000 }, progress: '[====>   ]', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 4_500_000, total: 4_500_000 }, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'bbb' },
  { status: 'Digest: sha256:abc' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

test('progressText: bar only on wide terminals, sizes with 4 digits', () => {
  assert.equal(progressText({ current: 1_200_000, total: 4_500_000 }, 80), '   1.2MB/4.5MB');
  const wide = progressText({ current: 1_200_000, total: 4_500_000 }, 200);
  assert.equal(wide, `[${'='.repeat(13)}>${' '.repeat(37)}]    1.2MB/4.5MB`);
  assert.equal(progressText({ current: 5_000_000, total: 4_500_000 }, 80), '     5MB');
  assert.equal(progressText({ current: 0, total: 0 }, 200), '');
  assert.equal(progressText({ current: 1234 }, 200), ' 1.234kB');
  assert.equal(progressText({ current: 10, total: 20, start: 100 }, 80, 110), '     10B/20B 10s');
});

test('non-terminal output drops byte-count updates and prints one line per status', () => {
  const s = sink(false);
  const p = new ProgressPrinter(s.out);
  for (const m of PULL) p.push(m);
  assert.equal(s.text(), [
    'latest: Pulling from library/busybox',
    'aaa: Pulling fs layer',
    'bbb: Pulling fs layer',
    'bbb: Download complete',
    'aaa: Pull complete',
    'bbb: Pull complete',
    'Digest: sha256:abc',
    'Status: Downloaded newer image for busybox:latest',
    '',
  ].join('\n'));
});

test('terminal output redraws each layer line in place', () => {
  const s = sink(true, 200);
  const p = new ProgressPrinter(s.out);
  for (const m of PULL.slice(0, 4)) p.push(m);
  const up = (n: number) => `\x1b[${n}A`;
  const down = (n: number) => `\x1b[${n}B`;
  const clear = '\x1b[2K\r';
  const bar = `[${'='.repeat(13)}>${' '.repeat(37)}]    1.2MB/4.5MB`;
  assert.equal(s.text(),
    'latest: Pulling from library/busybox\n'
    + '\n' + up(1) + clear + 'aaa: Pulling fs layer \r' + down(1)
    + '\n' + up(1) + clear + 'bbb: Pulling fs layer \r' + down(1)
    // aaa is two lines up from the cursor: move up, redraw, come back.
    + up(2) + clear + `aaa: Downloading ${bar}\r` + down(2));
});

test('errors and aux messages are not rendered', () => {
  const s = sink(false);
  const p = new ProgressPrinter(s.out);
  p.push({ errorDetail: { message: 'boom' }, error: 'boom' });
  p.push({ aux: { Tag: '1', Digest: 'sha256:x', Size: 1 } });
  p.push({ stream: 'Loaded image: x:1\n' });
  assert.equal(s.text(), 'Loaded image: x:1\n');
});
