// Signal names and numbers as Docker reads them (moby's ParseSignal and its Linux signal map).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal, signalNumber, signalSupported } from '../../src/runtime/runtime.js';

test('names with or without SIG in any case, numbers, and the real-time range', () => {
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('sigusr1'), 10);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal(2), 2);
  assert.equal(parseSignal('RTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX-2'), 62);
  assert.equal(parseSignal('rtmax'), 64);
  // A number parses whatever it is; whether the host can send it is a second question.
  assert.equal(parseSignal('65'), 65);
  assert.equal(signalSupported(65), false);
  assert.equal(signalSupported(32), false);
  assert.equal(signalSupported(64), true);
  for (const bad of ['0', 'NOPE', 'RTMIN-1', 'RTMAX+1', 'RTMIN+31', '']) {
    assert.throws(() => parseSignal(bad), /Invalid signal/, bad);
  }
  assert.throws(() => signalNumber('33'), /Invalid signal: 33/);
});
