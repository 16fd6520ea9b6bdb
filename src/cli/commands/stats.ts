// berth stats / container stats: resource usage per container, computed from the daemon's stats
// samples the way the docker CLI does, as a table redrawn in place (or one table with --no-stream).
import type { Client } from '../../client/client.js';
import type { ContainerStatsSample } from '../../client/types.js';
import { isBerthError } from '../../errors/index.js';
import type { FlagValues } from '../args.js';
import { flag, type Command, type Context } from '../command.js';
import { renderRows, type Row } from '../format/output.js';
import { bytesSize, humanSize, shortId } from '../format/human.js';

const HEADERS: Row = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const REDRAW_MS = 500;
const RELIST_MS = 2000;

/** CPU % over the interval between precpu_stats and cpu_stats, scaled by the online CPUs. */
export function cpuPercent(s: ContainerStatsSample): number {
  const cur = s.cpu_stats;
  const pre = s.precpu_stats;
  if (!cur) return 0;
  const cpuDelta = cur.cpu_usage.total_usage - (pre?.cpu_usage.total_usage ?? 0);
  const sysDelta = (cur.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  const online = cur.online_cpus || cur.cpu_usage.percpu_usage?.length || 0;
  if (sysDelta <= 0 || cpuDelta <= 0) return 0;
  return (cpuDelta / sysDelta) * online * 100;
}

/** Memory in use without the reclaimable page cache (inactive files), as docker shows it. */
export function memoryUsage(s: ContainerStatsSample): number {
  const m = s.memory_stats;
  const usage = m?.usage ?? 0;
  const st = m?.stats ?? {};
  const v1 = st.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = st.inactive_file;
  if (v2 !== undefined && v2 < usage) return usage - v2;
  return usage;
}

function blockIO(s: ContainerStatsSample): [number, number] {
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op.startsWith('r')) read += e.value;
    else if (op.startsWith('w')) write += e.value;
  }
  return [read, write];
}

function netIO(s: ContainerStatsSample): [number, number] {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) { rx += n.rx_bytes ?? 0; tx += n.tx_bytes ?? 0; }
  return [rx, tx];
}

/** One table row; `sample` undefined (nothing received yet) shows zeros like a stopped container. */
export function statsRow(container: string, id: string, name: string, sample: ContainerStatsSample | undefined, noTrunc: boolean): Row {
  const s: ContainerStatsSample = sample ?? { read: '', id, name };
  const mem = memoryUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  const [rx, tx] = netIO(s);
  const [r, w] = blockIO(s);
  return {
    Container: container,
    ID: noTrunc ? id : shortId(id),
    Name: name.replace(/^\//, ''),
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(r)} / ${humanSize(w)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

interface Watched {
  /** What the user named it (or the short ID when listing). */
  container: string;
  id: string;
  name: string;
  sample?: ContainerStatsSample;
  abort: AbortController;
}

async function listIds(client: Client, all: boolean): Promise<{ Id: string; Names: string[] }[]> {
  return client.transport.json({ path: '/containers/json', query: { all: all || undefined } });
}

async function noStream(ctx: Context, client: Client, args: string[], f: FlagValues, noTrunc: boolean): Promise<number> {
  const targets = args.length
    ? args.map((a) => ({ container: a, ref: a }))
    : (await listIds(client, flag.bool(f, 'all'))).map((c) => ({ container: shortId(c.Id), ref: c.Id }));
  const results = await Promise.allSettled(targets.map((t) => client.containerStats(t.ref)));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length) {
    for (const e of errors) {
      if (!isBerthError(e)) throw e;
      ctx.err(`Error response from daemon: ${e.message}\n`);
    }
    return 1;
  }
  const rows = results.map((r, i) => {
    const s = (r as PromiseFulfilledResult<ContainerStatsSample>).value;
    return statsRow(targets[i]!.container, s.id, s.name, s, noTrunc);
  });
  ctx.out(renderRows(flag.str(f, 'format'), DEFAULT_FORMAT, HEADERS, rows));
  return 0;
}

/** Keep `w.sample` current from the daemon's stream until aborted or the container is gone. */
async function follow(client: Client, w: Watched): Promise<void> {
  try {
    for await (const s of client.streamContainerStats(w.id, { signal: w.abort.signal })) {
      w.sample = s;
      w.name = s.name || w.name;
    }
  } catch { /* the container went away; its row stays until the next listing */ }
}

async function streaming(ctx: Context, client: Client, args: string[], f: FlagValues, noTrunc: boolean): Promise<number> {
  const watched = new Map<string, Watched>();
  const watch = (container: string, id: string, name: string) => {
    const w: Watched = { container, id, name, abort: new AbortController() };
    watched.set(id, w);
    void follow(client, w);
  };
  if (args.length) {
    // Resolve every name first: an unknown one fails the command before anything is drawn.
    const found = await Promise.allSettled(args.map((a) => client.transport.json<{ Id: string; Name: string }>({ path: `/containers/${encodeURIComponent(a)}/json` })));
    let failed = false;
    for (const r of found) {
      if (r.status === 'fulfilled') continue;
      if (!isBerthError(r.reason)) throw r.reason;
      ctx.err(`Error response from daemon: ${r.reason.message}\n`);
      failed = true;
    }
    if (failed) return 1;
    found.forEach((r, i) => { const c = (r as PromiseFulfilledResult<{ Id: string; Name: string }>).value; if (!watched.has(c.Id)) watch(args[i]!, c.Id, c.Name); });
  }
  const relist = async () => {
    const list = await listIds(client, flag.bool(f, 'all'));
    const ids = new Set(list.map((c) => c.Id));
    for (const [id, w] of watched) if (!ids.has(id)) { w.abort.abort(); watched.delete(id); }
    for (const c of list) if (!watched.has(c.Id)) watch(shortId(c.Id), c.Id, c.Names[0] ?? '');
  };
  if (!args.length) await relist();
  const tty = ctx.stdout.isTTY === true;
  const format = flag.str(f, 'format');
  let lastList = Date.now();
  if (tty) ctx.out('\x1b[2J');
  for (;;) {
    const rows = [...watched.values()].map((w) => statsRow(w.container, w.id, w.name, w.sample, noTrunc));
    const text = renderRows(format, DEFAULT_FORMAT, HEADERS, rows);
    // On a terminal: home, each line with the rest of it cleared, then the rest of the screen.
    if (tty) ctx.out(`\x1b[H${text.split('\n').slice(0, -1).map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`);
    else ctx.out(text);
    await new Promise((r) => setTimeout(r, REDRAW_MS));
    if (!args.length && Date.now() - lastList >= RELIST_MS) {
      lastList = Date.now();
      await relist().catch(() => {});
    }
  }
}

const command: Command = {
  usage: 'stats [OPTIONS] [CONTAINER...]',
  description: 'Display a live stream of container(s) resource usage statistics',
  flags: [
    { long: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
    { long: 'format', type: 'string', valueName: 'string', description: "Format output using a custom template:\n      'table':            Print output in table format with column headers (default)\n      'table TEMPLATE':   Print output in table format using the given Go template\n      'json':             Print in JSON format\n      'TEMPLATE':         Print output using the given Go template" },
    { long: 'no-stream', type: 'bool', description: 'Disable streaming stats and only pull the first result' },
    { long: 'no-trunc', type: 'bool', description: 'Do not truncate output' },
  ],
  async run(ctx, args, f) {
    const client = await ctx.client();
    const noTrunc = flag.bool(f, 'no-trunc');
    if (flag.bool(f, 'no-stream')) return noStream(ctx, client, args, f, noTrunc);
    return streaming(ctx, client, args, f, noTrunc);
  },
};

export default command;
