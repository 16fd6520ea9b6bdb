// The flag parser follows pflag's conventions and docker's exit status for flag errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, cliErrorInfo, type FlagSpec } from '../../src/cli/args.js';

const SPECS: FlagSpec[] = [
  { long: 'all', short: 'a', type: 'bool', description: '' },
  { long: 'quiet', short: 'q', type: 'bool', description: '' },
  { long: 'format', short: 'f', type: 'string', description: '' },
  { long: 'filter', type: 'list', description: '' },
  { long: 'human', short: 'H', type: 'bool', default: true, description: '' },
  { long: 'time', short: 't', type: 'int', description: '' },
];

test('bundled shorts, values, lists and interleaved arguments', () => {
  const r = parseFlags(['-aq', 'img', '--filter', 'a=1', '--filter=b=2', '-fjson', '-t', '5', 'x'], SPECS);
  assert.deepEqual(r.args, ['img', 'x']);
  assert.equal(r.flags.all, true);
  assert.equal(r.flags.quiet, true);
  assert.equal(r.flags.format, 'json');
  assert.deepEqual(r.flags.filter, ['a=1', 'b=2']);
  assert.equal(r.flags.time, 5);
  assert.equal(r.flags.human, true);
});

test('bool values, "--" and non-interspersed parsing', () => {
  assert.equal(parseFlags(['-H=false'], SPECS).flags.human, false);
  assert.equal(parseFlags(['--human=false'], SPECS).flags.human, false);
  assert.deepEqual(parseFlags(['--', '-a'], SPECS).args, ['-a']);
  const r = parseFlags(['img', '-a'], SPECS, { interspersed: false });
  assert.deepEqual(r.args, ['img', '-a']);
  assert.equal(r.flags.all, false);
  assert.equal(parseFlags(['-f', '-'], SPECS).flags.format, '-');
});

test('flag errors carry exit status 125', () => {
  for (const argv of [['--nope'], ['-z'], ['--format'], ['-t', 'x'], ['--all=maybe']]) {
    try {
      parseFlags(argv, SPECS);
      assert.fail(`accepted ${argv.join(' ')}`);
    } catch (e) {
      assert.equal(cliErrorInfo(e)?.exitCode, 125, String(e));
    }
  }
  assert.throws(() => parseFlags(['--nope'], SPECS), /unknown flag: --nope/);
  assert.throws(() => parseFlags(['-z'], SPECS), /unknown shorthand flag: 'z' in -z/);
});
