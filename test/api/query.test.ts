import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegistryAuth, matchLabels, parseBool, parseBoolDefault, parseFilters, parseTimestamp, validateFilters } from '../../src/api/query.js';
import { encodeProgress, humanSize, progressBar, errorMessage } from '../../src/api/progress.js';
import { isBerthError } from '../../src/errors/index.js';

test('parseBool follows moby: false iff "", 0, no, false, none', () => {
  for (const v of ['', '0', 'no', 'false', 'FALSE', ' none ', 'False']) assert.equal(parseBool(v), false, v);
  for (const v of ['1', 'true', 'True', 'yes', 'anything']) assert.equal(parseBool(v), true, v);
  assert.equal(parseBool(null), false);
  assert.equal(parseBoolDefault(null, true), true);
  assert.equal(parseBoolDefault('0', true), false);
});

test('parseFilters accepts both JSON shapes', () => {
  const a = parseFilters('{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
  assert.deepEqual([...a.get('label')!], ['a=b', 'c']);
  const b = parseFilters('{"label":["a=b","c"],"reference":["busy*"]}');
  assert.deepEqual([...b.get('label')!], ['a=b', 'c']);
  assert.deepEqual([...b.get('reference')!], ['busy*']);
  assert.equal(parseFilters('').size, 0);
  assert.equal(parseFilters(undefined).size, 0);
  assert.throws(() => parseFilters('{nope'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT') && e.status === 400);
  assert.throws(() => validateFilters(parseFilters('{"bogus":["x"]}'), ['label']), /invalid filter 'bogus'/);
});

test('matchLabels handles key and key=value', () => {
  assert.equal(matchLabels(new Set(['a']), { a: '1' }), true);
  assert.equal(matchLabels(new Set(['a=1']), { a: '1' }), true);
  assert.equal(matchLabels(new Set(['a=2']), { a: '1' }), false);
  assert.equal(matchLabels(new Set(['b']), null), false);
});

test('timestamps: unix seconds with fraction, RFC 3339', () => {
  assert.equal(parseTimestamp('10'), 10_000_000_000n);
  assert.equal(parseTimestamp('1.5'), 1_500_000_000n);
  assert.equal(parseTimestamp('1970-01-01T00:00:02Z'), 2_000_000_000n);
  assert.throws(() => parseTimestamp('yesterday'));
});

test('X-Registry-Auth: base64url, std base64, {} and garbage', () => {
  const json = JSON.stringify({ username: 'u', password: 'p?>~', serveraddress: 'localhost:5000' });
  const std = Buffer.from(json).toString('base64');
  const url = Buffer.from(json).toString('base64url');
  assert.deepEqual(decodeRegistryAuth(std), { username: 'u', password: 'p?>~', serveraddress: 'localhost:5000' });
  assert.deepEqual(decodeRegistryAuth(url), { username: 'u', password: 'p?>~', serveraddress: 'localhost:5000' });
  assert.equal(decodeRegistryAuth(Buffer.from('{}').toString('base64')), undefined);
  assert.equal(decodeRegistryAuth(undefined), undefined);
  assert.equal(decodeRegistryAuth('%%%'), undefined);
  const auth = decodeRegistryAuth(Buffer.from(JSON.stringify({ auth: Buffer.from('x:y').toString('base64') })).toString('base64'));
  assert.equal(auth?.username, 'x');
  assert.equal(auth?.password, 'y');
});

test('progress lines are JSON + CRLF, bars and sizes as Docker prints them', () => {
  assert.equal(encodeProgress({ status: 'Pull complete', id: 'abc' }), '{"status":"Pull complete","id":"abc"}\r\n');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(12_345_678), '12.3MB');
  const bar = progressBar(50, 100);
  assert.match(bar, /^\[=+>\s+\]\s+50B\/100B$/);
  assert.equal(bar.indexOf(']'), 51);
  assert.deepEqual(errorMessage('boom'), { errorDetail: { message: 'boom' }, error: 'boom' });
});
