// Per-interface network counters for /stats, parsed from /proc/<pid>/net/dev.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDev } from '../../src/engine/containers/extras.js';

test('parseNetDev: Docker counters per interface, loopback left out, malformed lines skipped', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    1200      12    0    0    0     0          0         0     1200      12    0    0    0     0       0          0',
    '  eth0:    5306      41    1    2    0     0          0         0     1342      15    3    4    0     0       0          0',
    '  bad0: not numbers',
    '',
  ].join('\n');
  assert.deepEqual(parseNetDev(text), {
    eth0: { rx_bytes: 5306, rx_packets: 41, rx_errors: 1, rx_dropped: 2, tx_bytes: 1342, tx_packets: 15, tx_errors: 3, tx_dropped: 4 },
  });
  assert.deepEqual(parseNetDev(''), {});
});
