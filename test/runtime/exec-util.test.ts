// Unit tests of how runtime failures are read: runc's JSON log lines and plain text, and crun's
// wording mapped onto runc's (the docker CLI picks exit codes 126 and 127 from that text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeErrorText, runcWording } from '../../src/runtime/exec-util.js';

test('runc: the msg of JSON log lines and of logfmt lines; plain text as it is', () => {
  assert.equal(runtimeErrorText('{"level":"error","msg":"container_linux.go: starting failed"}\n'), 'container_linux.go: starting failed');
  assert.equal(runtimeErrorText('time="x" level=error msg="exec: \\"nope\\": executable file not found in $PATH"\n'),
    'exec: "nope": executable file not found in $PATH');
  assert.equal(runtimeErrorText('something broke\n'), 'something broke');
  assert.equal(runtimeErrorText(''), 'unknown runtime error');
});

test("crun's failures read as runc words them, so the docker CLI gives 127 and 126 as with runc", () => {
  assert.equal(runtimeErrorText('executable file `no-such-binary` not found in $PATH: No such file or directory\n'),
    'exec: "no-such-binary": executable file not found in $PATH');
  assert.equal(runcWording('chdir `/no-such-dir`: No such file or directory'),
    'chdir to cwd ("/no-such-dir") set in config.json failed: no such file or directory');
  assert.equal(runcWording('open executable: Permission denied'), 'open executable: permission denied');
  // A directory as the command: crun's open fails with EPERM, runc's lookup says permission denied.
  assert.equal(runcWording('open executable: Operation not permitted'), 'open executable: permission denied');
  assert.equal(runcWording('mount `/x` to `/y`: Not a directory'), 'mount `/x` to `/y`: not a directory');
  // runc's own words pass unchanged.
  const runc = 'unable to start container process: exec: "/etc": permission denied';
  assert.equal(runcWording(runc), runc);
});
