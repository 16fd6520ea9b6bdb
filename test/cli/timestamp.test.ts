// --since/--until values as the docker CLI sends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTimestamp, goDuration, parseGoDuration } from '../../src/cli/timestamp.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0, 500);
const local = (...a: [number, number, number, number?, number?, number?]) => new Date(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0).getTime() / 1000;

test('Go durations: units, fractions, sums, signs', () => {
  assert.equal(goDuration('1h30m'), 5400e9);
  assert.equal(goDuration('1.5h'), 5400e9);
  assert.equal(goDuration('10ms'), 10e6);
  assert.equal(goDuration('-5m'), -300e9);
  assert.equal(goDuration('2µs'), 2000);
  assert.equal(goDuration('5'), undefined);
  assert.equal(goDuration('h'), undefined);
  assert.equal(goDuration('1d'), undefined);
});

test('durations count back from now, in whole seconds; a negative one is in the future', () => {
  assert.equal(getTimestamp('1h30m', NOW), String(Math.floor(NOW / 1000) - 5400));
  assert.equal(getTimestamp('10ms', NOW), String(Math.floor(NOW / 1000)));
  assert.equal(getTimestamp('-1h', NOW), String(Math.floor(NOW / 1000) + 3600));
});

test('dates and times: local without a zone, else as zoned; nanoseconds kept', () => {
  assert.equal(getTimestamp('2026-11-30'), `${local(2026, 11, 30)}.000000000`);
  assert.equal(getTimestamp('2026-11-30T05'), `${local(2026, 11, 30, 5)}.000000000`);
  assert.equal(getTimestamp('2026-11-30T05:07'), `${local(2026, 11, 30, 5, 7)}.000000000`);
  assert.equal(getTimestamp('2026-11-30T05:07:09.25'), `${local(2026, 11, 30, 5, 7, 9)}.250000000`);
  assert.equal(getTimestamp('2026-11-30T05:00:00Z'), `${Date.UTC(2026, 10, 30, 5) / 1000}.000000000`);
  assert.equal(getTimestamp('2026-11-30T06:00:00+01:00'), `${Date.UTC(2026, 10, 30, 5) / 1000}.000000000`);
  assert.equal(getTimestamp('2026-11-30T04:00:00-01:00'), `${Date.UTC(2026, 10, 30, 5) / 1000}.000000000`);
});

test('unix seconds go as they are; "0" is not a duration; bad values get docker\'s words', () => {
  assert.equal(getTimestamp('1796017512'), '1796017512');
  assert.equal(getTimestamp('1796017512.5'), '1796017512.5');
  assert.equal(getTimestamp('0'), '0');
  assert.throws(() => getTimestamp('bogus'), /^Error: failed to parse value as time or duration: "bogus"$/);
  assert.throws(() => getTimestamp('2026-13-01'), /^Error: parsing time "2026-13-01": month out of range$/);
  assert.throws(() => getTimestamp('2026-02-30'), /day out of range/);
  assert.throws(() => getTimestamp('2026-11-30T25:00'), /hour out of range/);
  assert.throws(() => getTimestamp('x-y'), /parsing time "x-y"/);
});

test('Go duration errors in Go\'s words', () => {
  assert.deepEqual(parseGoDuration('5'), { error: 'time: missing unit in duration "5"' });
  assert.deepEqual(parseGoDuration('1d'), { error: 'time: unknown unit "d" in duration "1d"' });
  assert.deepEqual(parseGoDuration('x'), { error: 'time: invalid duration "x"' });
  assert.deepEqual(parseGoDuration(''), { error: 'time: invalid duration ""' });
  assert.deepEqual(parseGoDuration('.5s'), { ns: 5e8 });
  assert.deepEqual(parseGoDuration('1.s'), { ns: 1e9 });
  assert.equal(goDuration('-0'), 0);
});
