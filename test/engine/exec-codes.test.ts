// Exit codes of execs that could not start (moby's rule for runtime start errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFailureCode } from '../../src/engine/exec/service.js';

test('execFailureCode: 127 only for the command itself missing, 126 otherwise', () => {
  const oci = (s: string) => `OCI runtime exec failed: exec failed: unable to start container process: ${s}`;
  assert.equal(execFailureCode(oci('exec: "nosuchcmd": executable file not found in $PATH'), 'nosuchcmd'), 127);
  assert.equal(execFailureCode(oci('exec: "/bin/gone": stat /bin/gone: no such file or directory'), '/bin/gone'), 127);
  assert.equal(execFailureCode(oci('exec: "/etc/passwd": permission denied'), '/etc/passwd'), 126);
  // The working directory, not the command, is missing.
  assert.equal(execFailureCode(oci('chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory'), 'pwd'), 126);
  assert.equal(execFailureCode(oci('exec: "/etc/passwd/x": not a directory'), '/etc/passwd/x'), 127);
  assert.equal(execFailureCode('unable to find user nosuchuser: no matching entries in passwd file', 'true'), 126);
});
