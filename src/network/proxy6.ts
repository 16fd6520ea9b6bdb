// Published ports on IPv6: Berth's bridge is IPv4 only, so no DNAT rule can take an IPv6 client to
// a container. For a port published on all addresses Docker also listens on [::] (its userland
// proxy), and on an IPv6 host address (`-p [::1]:8080:80`) only there; Berth does the same in the
// daemon: a socket on that address (IPv6 only; IPv4 stays with the DNAT rules) that carries each
// connection, or each UDP client, to the container's IPv4 address. It goes with the daemon and is
// opened again when the daemon restores its endpoints.
import { connect, createServer, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { PortHold, Protocol } from './ports.js';

/** UDP has no end: a client's flow is dropped after this long without a datagram either way. */
const UDP_IDLE_MS = 90_000;
/** Each UDP flow holds a socket: datagrams from further new clients are dropped past this many. */
const UDP_MAX_FLOWS = 1024;

export interface Forward6Target { ip: string; port: number }

/**
 * Listen on [`host`]:`port` ("::": every IPv6 address, IPv6 only) and forward to `target`. Null
 * when the host has no such address or the port is taken there.
 */
export function forward6(host: string, port: number, protocol: Protocol, target: Forward6Target): Promise<PortHold | null> {
  return protocol === 'udp' ? forwardUdp6(host, port, target) : forwardTcp6(host, port, target);
}

function forwardTcp6(host: string, port: number, target: Forward6Target): Promise<PortHold | null> {
  const conns = new Set<Socket>();
  const srv = createServer({ allowHalfOpen: true }, (client) => {
    const up = connect({ host: target.ip, port: target.port, allowHalfOpen: true });
    conns.add(client);
    conns.add(up);
    const drop = () => { client.destroy(); up.destroy(); };
    client.on('error', drop);
    up.on('error', drop);
    // One side gone: the other goes too, unless it was ended and is still flushing what it got.
    client.on('close', () => { conns.delete(client); if (!up.writableEnded) up.destroy(); });
    up.on('close', () => { conns.delete(up); if (!client.writableEnded) client.destroy(); });
    // pipe: backpressure both ways, and an end on one side ends the other (half-close passes on).
    client.pipe(up);
    up.pipe(client);
  });
  return new Promise((resolve) => {
    srv.once('error', () => resolve(null));
    srv.listen({ host, port, ipv6Only: true, exclusive: true }, () => {
      srv.removeAllListeners('error');
      srv.on('error', () => {});
      srv.unref();
      resolve({ close: () => { srv.close(); for (const c of conns) c.destroy(); conns.clear(); } });
    });
  });
}

function forwardUdp6(host: string, port: number, target: Forward6Target): Promise<PortHold | null> {
  const s = createSocket({ type: 'udp6', ipv6Only: true, reuseAddr: false });
  const flows = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
  const endFlow = (key: string) => {
    const f = flows.get(key);
    if (!f) return;
    flows.delete(key);
    clearTimeout(f.timer);
    try { f.up.close(); } catch { /* closed */ }
  };
  s.on('message', (msg, from) => {
    const key = `[${from.address}]:${from.port}`;
    let f = flows.get(key);
    if (!f) {
      if (flows.size >= UDP_MAX_FLOWS) return;
      const up = createSocket('udp4');
      up.on('error', () => endFlow(key));
      up.on('message', (reply) => {
        const g = flows.get(key);
        if (!g) return;
        g.timer.refresh();
        try { s.send(reply, from.port, from.address); } catch { endFlow(key); }
      });
      up.connect(target.port, target.ip);
      up.unref();
      f = { up, timer: setTimeout(() => endFlow(key), UDP_IDLE_MS).unref() };
      flows.set(key, f);
    }
    f.timer.refresh();
    const flow = f;
    // Sent once connected (a send before that fails with ERR_SOCKET_DGRAM_NOT_CONNECTED).
    const send = () => flow.up.send(msg, (err) => { if (err) endFlow(key); });
    try { flow.up.remoteAddress(); send(); } catch { flow.up.once('connect', send); }
  });
  return new Promise((resolve) => {
    s.once('error', () => { try { s.close(); } catch { /* not bound */ } resolve(null); });
    s.bind({ address: host, port, exclusive: true }, () => {
      s.removeAllListeners('error');
      s.on('error', () => {});
      s.unref();
      resolve({ close: () => { for (const k of [...flows.keys()]) endFlow(k); try { s.close(); } catch { /* closed */ } } });
    });
  });
}
