// Per-container /etc/hosts, /etc/hostname and /etc/resolv.conf contents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile, hostnameFile, ownHostsLine, resolvConf } from '../../src/network/index.js';
import { isBerthError } from '../../src/errors/index.js';

test('hostsFile: defaults, --add-host, own address last', () => {
  const text = hostsFile({ hostname: 'abc123', ip: '10.213.0.2', extraHosts: ['db:10.0.0.5', 'host.docker.internal:host-gateway', 'v6:::1'], hostGateway: '10.213.0.1' });
  assert.equal(text, [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '10.0.0.5\tdb',
    '10.213.0.1\thost.docker.internal',
    '::1\tv6',
    '10.213.0.2\tabc123',
    '',
  ].join('\n'));
  assert.match(hostsFile({ hostname: 'web', domainname: 'example.org', ip: '10.213.0.3' }), /\n10\.213\.0\.3\tweb\.example\.org web\n$/);
  // A dotted hostname alone: the full name, then its first label (Docker's libnetwork does the same).
  assert.equal(ownHostsLine('10.213.0.3', 'db.internal'), '10.213.0.3\tdb.internal db');
  assert.equal(ownHostsLine('10.213.0.3', 'db.internal', 'corp'), '10.213.0.3\tdb.internal.corp db');
  assert.equal(ownHostsLine('10.213.0.3', 'plain'), '10.213.0.3\tplain');
  // No own line without an address (network none).
  assert.doesNotMatch(hostsFile({ hostname: 'x' }), /\tx\n/);
  assert.throws(() => hostsFile({ hostname: 'x', extraHosts: ['bad:notanip'] }), (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.equal(hostnameFile('abc123'), 'abc123\n');
});

test('resolvConf: loopback nameservers dropped, Docker fallback, --dns overrides', () => {
  const host = '# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver fd00::1\nsearch corp.example\noptions edns0 trust-ad\n';
  assert.equal(resolvConf(host), '# generated\nsearch corp.example\nnameserver 10.0.0.2\noptions edns0 trust-ad\n');
  // Only loopback resolvers: Docker falls back to Google's.
  assert.equal(resolvConf('nameserver 127.0.0.1\nnameserver ::1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf(''), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf(host, { dns: ['1.1.1.1'], dnsSearch: ['a.test', 'b.test'], dnsOptions: ['ndots:2'] }),
    '# generated\nsearch a.test b.test\nnameserver 1.1.1.1\noptions ndots:2\n');
  // "--dns-search ." means no search domains.
  assert.doesNotMatch(resolvConf(host, { dnsSearch: ['.'] }), /search/);
  assert.match(resolvConf(host, { ipv6: true }), /nameserver fd00::1/);
});
