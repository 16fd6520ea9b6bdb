// Subnet arithmetic and the address allocator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateIp, releaseIps, parseSubnet, formatSubnet, ipToInt, intToIp, macForIp, newIpamState } from '../../src/network/index.js';
import { overlaps, hostRoutes } from '../../src/network/ipam.js';
import { parseNetworkMode } from '../../src/network/index.js';
import { isBerthError } from '../../src/errors/index.js';

test('subnet arithmetic', () => {
  assert.equal(ipToInt('10.213.0.1'), 0x0ad50001);
  assert.equal(intToIp(0xffffffff), '255.255.255.255');
  const s = parseSubnet('10.213.7.9/16');
  assert.equal(formatSubnet(s), '10.213.0.0/16');
  assert.equal(intToIp(s.last), '10.213.255.255');
  assert.ok(overlaps(parseSubnet('10.213.0.0/16'), parseSubnet('10.213.4.0/24')));
  assert.ok(!overlaps(parseSubnet('10.213.0.0/16'), parseSubnet('10.214.0.0/16')));
  assert.throws(() => parseSubnet('10.0.0.0/33'), (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => ipToInt('1.2.3.256'), (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.equal(macForIp('172.17.0.2'), '02:42:ac:11:00:02');
  // The host's routing table is readable without spawning anything.
  assert.ok(Array.isArray(hostRoutes()));
});

test('allocateIp: skips gateway, round-robins, releases, exhausts', () => {
  const sn = parseSubnet('10.9.9.0/29'); // hosts .1-.6; .1 is the gateway
  const st = newIpamState();
  const got = ['a', 'b', 'c', 'd', 'e'].map((o) => allocateIp(st, sn, '10.9.9.1', o));
  assert.deepEqual(got, ['10.9.9.2', '10.9.9.3', '10.9.9.4', '10.9.9.5', '10.9.9.6']);
  assert.throws(() => allocateIp(st, sn, '10.9.9.1', 'f'), /no available IPv4 addresses/);
  releaseIps(st, 'b');
  assert.equal(allocateIp(st, sn, '10.9.9.1', 'f'), '10.9.9.3');
  // A freed address is not handed out again while others are free: the cursor moves on.
  releaseIps(st, 'f');
  releaseIps(st, 'e');
  assert.equal(allocateIp(st, sn, '10.9.9.1', 'g'), '10.9.9.6');
  assert.equal(allocateIp(st, sn, '10.9.9.1', 'h'), '10.9.9.3');
  // State survives a JSON round trip (it is what the manager persists).
  const again = JSON.parse(JSON.stringify(st)) as typeof st;
  assert.deepEqual(again, st);
  // Fixed addresses.
  releaseIps(st, 'a');
  assert.equal(allocateIp(st, sn, '10.9.9.1', 'x', '10.9.9.2'), '10.9.9.2');
  assert.throws(() => allocateIp(st, sn, '10.9.9.1', 'y', '10.9.9.2'), (e: unknown) => isBerthError(e, 'ERR_CONFLICT'));
  assert.throws(() => allocateIp(st, sn, '10.9.9.1', 'y', '10.9.9.1'), (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => allocateIp(st, sn, '10.9.9.1', 'y', '10.9.10.2'), (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
});

test('parseNetworkMode', () => {
  assert.deepEqual(parseNetworkMode(undefined), { kind: 'bridge' });
  assert.deepEqual(parseNetworkMode('default'), { kind: 'bridge' });
  assert.deepEqual(parseNetworkMode('bridge'), { kind: 'bridge' });
  assert.deepEqual(parseNetworkMode('none'), { kind: 'none' });
  assert.deepEqual(parseNetworkMode('host'), { kind: 'host' });
  assert.deepEqual(parseNetworkMode('container:abc'), { kind: 'container', container: 'abc' });
  assert.throws(() => parseNetworkMode('mynet'), (e: unknown) => isBerthError(e, 'ERR_NO_SUCH_NETWORK') && e.message === 'network mynet not found');
});
