// The -p grammar, Docker's PortBindings conversion and the host-port allocator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { parsePortSpec, portRequestsFromConfig, toDockerPorts, allocatePorts, portFree, holdPort, type PortBinding } from '../../src/network/index.js';
import { isBerthError } from '../../src/errors/index.js';

const req = (containerPort: number, hostPort = 0, hostPortEnd = hostPort, hostIp = '', protocol: 'tcp' | 'udp' = 'tcp') =>
  ({ containerPort, protocol, hostIp, hostPort, hostPortEnd });

test('parsePortSpec: the forms of -p', () => {
  assert.deepEqual(parsePortSpec('80'), [req(80)]);
  assert.deepEqual(parsePortSpec('8080:80'), [req(80, 8080)]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80'), [req(80, 8080, 8080, '127.0.0.1')]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [req(80, 0, 0, '127.0.0.1')]);
  assert.deepEqual(parsePortSpec('0.0.0.0:8080:80'), [req(80, 8080)]);
  // IPv6 host addresses: served on IPv6 only (by the daemon's forwarder), one spelling each.
  assert.deepEqual(parsePortSpec('[::]:8080:80'), [req(80, 8080, 8080, '::')]);
  assert.deepEqual(parsePortSpec('[0:0::1]:80:80'), [req(80, 80, 80, '::1')]);
  assert.deepEqual(parsePortSpec('53:53/udp'), [req(53, 53, 53, '', 'udp')]);
  assert.deepEqual(parsePortSpec('53/UDP'), [req(53, 0, 0, '', 'udp')]);
  assert.deepEqual(parsePortSpec('80/tcp'), [req(80)]);
  assert.deepEqual(parsePortSpec('8080-8081:80-81'), [req(80, 8080), req(81, 8081)]);
  assert.deepEqual(parsePortSpec('80-82'), [req(80), req(81), req(82)]);
  // A host range for one container port: any free port in it.
  assert.deepEqual(parsePortSpec('8000-8010:80'), [req(80, 8000, 8010)]);
  assert.deepEqual(parsePortSpec('0:80'), [req(80)]);
});

test('parsePortSpec: invalid specs are rejected with Docker wording', () => {
  const bad: [string, RegExp][] = [
    ['', /no port specified/],
    ['abc', /invalid containerPort: abc/],
    ['x:80', /invalid hostPort: x/],
    ['70000', /invalid containerPort/],
    ['0', /invalid containerPort/],
    ['80/icmp', /invalid proto: icmp/],
    ['300.1.1.1:80:80', /invalid IP address/],
    ['8080-8082:80-81', /invalid ranges specified for container and host Ports: 80-81 and 8080-8082/],
    ['82-80', /invalid containerPort/],
    ['[::g]:80:80', /invalid IP address/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(() => parsePortSpec(spec), (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT') && re.test(e.message), spec);
  }
});

test('portRequestsFromConfig: PortBindings plus -P over ExposedPorts', () => {
  const reqs = portRequestsFromConfig(
    { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostPort: '5300-5310' }] },
    { '80/tcp': {}, '443/tcp': {}, '53/udp': {}, '7000-7001/tcp': {} }, true);
  assert.deepEqual(reqs, [
    req(80, 8080), req(80, 0, 0, '127.0.0.1'), req(53, 5300, 5310, '', 'udp'),
    req(443), req(7000), req(7001),
  ]);
  assert.deepEqual(portRequestsFromConfig({ '80/tcp': [{ HostPort: '8080' }] }, { '443/tcp': {} }, false), [req(80, 8080)]);
  assert.deepEqual(portRequestsFromConfig(undefined, undefined), []);
});

test('toDockerPorts: bindings and exposed-only ports', () => {
  const b: PortBinding[] = [{ hostIp: '', hostPort: 32768, containerPort: 80, protocol: 'tcp' }, { hostIp: '127.0.0.1', hostPort: 9000, containerPort: 80, protocol: 'tcp' }];
  assert.deepEqual(toDockerPorts(b, { '80/tcp': {}, '443/tcp': {} }), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }, { HostIp: '127.0.0.1', HostPort: '9000' }],
    '443/tcp': null,
  });
  // All addresses served on IPv6 too; an IPv6 host address as it is.
  const v6: PortBinding[] = [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp', ipv6: true }, { hostIp: '::1', hostPort: 9090, containerPort: 90, protocol: 'udp' }];
  assert.deepEqual(toDockerPorts(v6), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }],
    '90/udp': [{ HostIp: '::1', HostPort: '9090' }],
  });
});

test('allocatePorts: fixed, ranged and dynamic ports avoid ours and the kernel\'s', async () => {
  const taken: PortBinding[] = [{ hostIp: '', hostPort: 40000, containerPort: 80, protocol: 'tcp' }];
  const held = new Set(['tcp:40001', 'tcp:40003']);
  let open = 0;
  const reserve = async (_ip: string, port: number, proto: string) => {
    if (held.has(`${proto}:${port}`)) return null;
    open++;
    return { close: () => { open--; } };
  };
  const any = async () => { open++; return { close: () => { open--; } }; };
  const state = { cursor: 0 };
  // 40000 is ours, 40001 held by a host process, 40002 free.
  const got = await allocatePorts([req(80, 40000, 40005)], taken, state, reserve);
  assert.equal(got.bindings[0]!.hostPort, 40002);
  assert.equal(got.holds.length, 1);
  got.holds[0]!.close();
  // Same port, other protocol: fine.
  const udp = await allocatePorts([req(53, 40000, 40000, '', 'udp')], taken, state, reserve);
  assert.equal(udp.bindings[0]!.hostPort, 40000);
  udp.holds[0]!.close();
  // 127.0.0.1:40000 overlaps the wildcard binding.
  await assert.rejects(allocatePorts([req(80, 40000, 40000, '127.0.0.1')], taken, state, reserve), /Bind for 127.0.0.1:40000 failed: port is already allocated/);
  await assert.rejects(allocatePorts([req(80, 40001)], taken, state, reserve), /address already in use/);
  await assert.rejects(allocatePorts([req(80, 40000, 40001)], taken, state, reserve), /all ports in the range are allocated/);
  // IPv6: "::" overlaps every IPv6 address and the all-addresses binding, not an IPv4 one.
  await assert.rejects(allocatePorts([req(80, 40000, 40000, '::')], taken, state, reserve), /Bind for \[::\]:40000 failed: port is already allocated/);
  const v6 = await allocatePorts([req(80, 40002, 40002, '::1')], [{ hostIp: '127.0.0.1', hostPort: 40002, containerPort: 80, protocol: 'tcp' }], state, reserve);
  assert.equal(v6.bindings[0]!.hostIp, '::1');
  v6.holds[0]!.close();
  await assert.rejects(allocatePorts([req(80, 40002, 40002, '::1')], [{ hostIp: '::', hostPort: 40002, containerPort: 81, protocol: 'tcp' }], state, reserve), /Bind for \[::1\]:40002 failed/);
  await assert.rejects(allocatePorts([req(80, 40001, 40001, '::1')], [], state, reserve), /failed to bind port \[::1\]:40001\/tcp: Error starting userland proxy: listen tcp6 \[::1\]:40001: bind: address already in use/);
  // A failure part-way releases what was already held.
  await assert.rejects(allocatePorts([req(81, 40004), req(80, 40001)], taken, state, reserve), /address already in use/);
  assert.equal(open, 0);
  // Two requests in one call do not collide with each other; dynamic ports advance a cursor.
  const two = await allocatePorts([req(80), req(81)], [], state, any);
  assert.notEqual(two.bindings[0]!.hostPort, two.bindings[1]!.hostPort);
  assert.equal(state.cursor, two.bindings[1]!.hostPort);
  const next = await allocatePorts([req(82)], [], state, any);
  assert.equal(next.bindings[0]!.hostPort, two.bindings[1]!.hostPort + 1);
});

test('holdPort: a held port is taken for everyone until released', async () => {
  const h = await holdPort('127.0.0.1', 0, 'tcp');
  assert.ok(h);
  h.close();
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  const hold = await holdPort('', port, 'tcp');
  assert.ok(hold);
  assert.equal(await portFree('127.0.0.1', port, 'tcp'), false);
  assert.equal(await holdPort('', port, 'tcp'), null);
  hold.close();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(await portFree('127.0.0.1', port, 'tcp'), true);
  const u = await holdPort('127.0.0.1', port, 'udp');
  assert.ok(u);
  assert.equal(await portFree('127.0.0.1', port, 'udp'), false);
  u.close();
});

test('portFree: sees a real listener', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    assert.equal(await portFree('127.0.0.1', port, 'tcp'), false);
    assert.equal(await portFree('', port, 'tcp'), false);
  } finally {
    await new Promise((r) => srv.close(r));
  }
  assert.equal(await portFree('127.0.0.1', port, 'tcp'), true);
  assert.equal(await portFree('127.0.0.1', port, 'udp'), true);
});
