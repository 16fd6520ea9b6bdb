import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, errors, statusOf, codeForStatus, isBerthError, CODES } from '../../src/errors/index.js';

test('codes map to Docker statuses in one place', () => {
  assert.equal(errors.noSuchImage('x').status, 404);
  assert.equal(errors.noSuchImage('x').message, 'No such image: x');
  assert.equal(errors.noSuchContainer('abc').message, 'No such container: abc');
  assert.equal(new BerthError('ERR_NAME_IN_USE', 'c').status, 409);
  assert.equal(new BerthError('ERR_INVALID_REFERENCE', 'c').status, 400);
  assert.equal(new BerthError('ERR_NOT_MODIFIED', 'c').status, 304);
  assert.equal(new BerthError('ERR_UNAUTHORIZED', 'c').status, 401);
  assert.equal(statusOf(new Error('x')), 500);
});

test('every code has a kind with a status, and statuses map back', () => {
  for (const code of Object.keys(CODES) as (keyof typeof CODES)[]) {
    const e = new BerthError(code, 'm');
    assert.ok(e.status >= 300 && e.status < 600, code);
    assert.equal(new BerthError(codeForStatus(e.status), 'm').status, e.status, code);
  }
});

test('checked by code, not instanceof', () => {
  const plain = { name: 'BerthError', code: 'ERR_NO_SUCH_IMAGE', message: 'No such image: x' };
  assert.ok(isBerthError(plain, 'ERR_NO_SUCH_IMAGE'));
  assert.ok(!isBerthError(new Error('x')));
  assert.ok(!isBerthError(errors.invalid('x'), 'ERR_NO_SUCH_IMAGE'));
});
