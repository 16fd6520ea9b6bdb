// Pure parts of the container commands: stats arithmetic and cells, detach keys, cp argument
// splitting, update flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatsSample } from '../../src/client/types.js';
import { cpuPercent, memoryUsage, statsRow } from '../../src/cli/commands/stats.js';
import { detachFilter, parseDetachKeys } from '../../src/cli/commands/container-io.js';
import { splitCpArg } from '../../src/cli/commands/cp.js';
import { ramInBytes, update, updateBody } from '../../src/cli/commands/container-extra.js';
import { parseFlags } from '../../src/cli/args.js';

const MiB = 1024 * 1024;

function sample(over: Partial<ContainerStatsSample> = {}): ContainerStatsSample {
  return {
    read: '2026-11-29T02:00:01Z', id: 'a'.repeat(64), name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 1_200_000_000 }, system_cpu_usage: 54_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 50_000_000_000, online_cpus: 2 },
    memory_stats: { usage: 10 * MiB, limit: 64 * MiB, stats: { total_inactive_file: 2 * MiB } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [
      { major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 },
      { major: 8, minor: 0, op: 'Total', value: 12288 },
    ] },
    pids_stats: { current: 3 },
    ...over,
  };
}

test('CPU % is the usage delta over the system delta, times the online CPUs', () => {
  // 0.2 s of CPU in 4 s of system time on 2 CPUs.
  assert.equal(cpuPercent(sample()), 10);
  // Without a previous sample's system time, or with no progress, it is 0.
  assert.equal(cpuPercent(sample({ cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 0 } })), 0);
  // online_cpus missing: the per-CPU list counts.
  const s = sample();
  s.cpu_stats = { cpu_usage: { total_usage: 1_200_000_000, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 54_000_000_000 };
  assert.equal(cpuPercent(s), 20);
});

test('memory leaves out the inactive page cache (cgroup v1 and v2 names)', () => {
  assert.equal(memoryUsage(sample()), 8 * MiB);
  assert.equal(memoryUsage(sample({ memory_stats: { usage: 10 * MiB, stats: { inactive_file: 4 * MiB } } })), 6 * MiB);
  assert.equal(memoryUsage(sample({ memory_stats: { usage: MiB, stats: { inactive_file: 4 * MiB } } })), MiB);
});

test('stats rows read like docker\'s', () => {
  assert.deepEqual(statsRow('web', 'a'.repeat(64), '/web', sample(), false), {
    Container: 'web', ID: 'aaaaaaaaaaaa', Name: 'web', CPUPerc: '10.00%', MemUsage: '8MiB / 64MiB', MemPerc: '12.50%',
    NetIO: '2kB / 500B', BlockIO: '4.1kB / 8.19kB', PIDs: '3',
  });
  // Nothing received yet (or a stopped container): zeros.
  const none = statsRow('b'.repeat(64), 'b'.repeat(64), '/idle', undefined, true);
  assert.deepEqual([none.ID.length, none.CPUPerc, none.MemUsage, none.MemPerc, none.NetIO, none.BlockIO, none.PIDs], [64, '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
});

test('detach keys: docker syntax, held back until they match', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-[,ctrl-_')], [97, 0, 27, 31]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys/);
  assert.throws(() => parseDetachKeys('ab'), /Invalid detach keys/);
  const sent: string[] = [];
  let detached = 0;
  const feed = detachFilter(parseDetachKeys('ctrl-p,ctrl-q'), (b) => sent.push(b.toString('latin1')), () => { detached++; });
  feed(Buffer.from('ab\x10'));
  feed(Buffer.from('c\x10'));
  assert.deepEqual(sent, ['ab', '\x10c']);
  assert.equal(detached, 0);
  feed(Buffer.from('\x10\x11ignored'));
  assert.equal(detached, 1);
  assert.deepEqual(sent, ['ab', '\x10c', '\x10']);
});

test('cp arguments: container:path unless absolute or ./ relative', () => {
  assert.deepEqual(splitCpArg('web:/etc/hosts'), { container: 'web', path: '/etc/hosts' });
  assert.deepEqual(splitCpArg('web:rel'), { container: 'web', path: 'rel' });
  assert.deepEqual(splitCpArg('/tmp/a:b'), { path: '/tmp/a:b' });
  assert.deepEqual(splitCpArg('./a:b'), { path: './a:b' });
  assert.deepEqual(splitCpArg('-'), { path: '-' });
});

test('update sends only the flags given, with docker\'s units', () => {
  const parse = (argv: string[]) => parseFlags(argv, update.flags!).flags;
  assert.deepEqual(updateBody(parse(['-m', '64m', '--memory-swap', '-1', '--cpus', '1.5', '--pids-limit', '-1', '--restart', 'on-failure:2'])), {
    Memory: 64 * MiB, MemorySwap: -1, NanoCpus: 1_500_000_000, PidsLimit: -1, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
  });
  assert.deepEqual(updateBody(parse(['-c', '512', '--cpuset-cpus', '0'])), { CpuShares: 512, CpusetCpus: '0' });
  assert.deepEqual(updateBody(parse([])), {});
  assert.equal(ramInBytes('1.5g', '-m'), 1.5 * 1024 * MiB);
  assert.equal(ramInBytes('512KiB', '-m'), 512 * 1024);
  assert.throws(() => ramInBytes('lots', '-m, --memory'), /invalid argument "lots" for "-m, --memory" flag/);
  // The count must be a number; which policies take one is the daemon's to say, as with the docker CLI.
  assert.throws(() => updateBody(parse(['--restart', 'on-failure:x'])), /^BerthError: invalid restart policy format: maximum retry count must be an integer$/);
  assert.throws(() => updateBody(parse(['--restart', ':3'])), /no policy provided before colon/);
  assert.deepEqual(updateBody(parse(['--restart', 'always:3'])), { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } });
});
