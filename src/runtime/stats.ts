// Resource usage of a container from its cgroup (v1 or v2), in the units Docker's /stats uses.
import { promises as fsp } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';

export interface BlkioEntry { major: number; minor: number; op: string; value: number }
export interface ContainerStats {
  read: Date;
  cgroupVersion: 1 | 2;
  memory: { usage: number; maxUsage?: number; limit: number; stats: Record<string, number> };
  cpu: {
    totalUsage: number;          // ns
    perCpuUsage?: number[];      // ns (v1 only)
    usageInKernelmode: number;   // ns
    usageInUsermode: number;     // ns
    systemUsage: number;         // ns of host CPU time (from /proc/stat)
    onlineCpus: number;
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  pids: { current: number; limit?: number };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[];
    /** v1 only (v2 has no such counters). */
    more?: Record<'io_queue_recursive' | 'io_service_time_recursive' | 'io_wait_time_recursive' | 'io_merged_recursive' | 'io_time_recursive' | 'sectors_recursive', BlkioEntry[]>;
  };
}

const CG = '/sys/fs/cgroup';
const TICKS = 100; // USER_HZ on Linux

async function readText(p: string): Promise<string | undefined> {
  try { return await fsp.readFile(p, 'utf8'); } catch { return undefined; }
}
async function readNum(p: string): Promise<number | undefined> {
  const t = (await readText(p))?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
function kv(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^[0-9]+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

async function systemUsage(): Promise<number> {
  const t = (await readText('/proc/stat')) ?? '';
  const line = t.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const total = line.trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0);
  return (total * 1e9) / TICKS;
}

function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    // "8:0 Read 4096", or "8:0 4096" for the counters without operations (time, sectors).
    const m = /^(\d+):(\d+)(?: (\w+))? (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3] ?? '', value: Number(m[4]) });
  }
  return out;
}

/**
 * A v1 blkio counter in the order Docker's containerd reads it: CFQ's, then BFQ's (kept on modern
 * kernels, which dropped CFQ), then the throttling layer's (which counts only throttled devices).
 */
async function firstText(dir: string, name: string): Promise<string | undefined> {
  for (const f of [`blkio.${name}_recursive`, `blkio.bfq.${name}_recursive`, `blkio.throttle.${name}_recursive`, `blkio.throttle.${name}`]) {
    const t = await readText(join(dir, f));
    if (t !== undefined) return t;
  }
  return undefined;
}

/** The cgroup directories of host process `pid`: by v1 controller, and its v2 path. */
async function cgroupDirs(pid: number): Promise<{ v1: Map<string, string>; v2path: string | undefined }> {
  const cg = await readText(`/proc/${pid}/cgroup`);
  if (!cg) throw new BerthError('ERR_CONFLICT', 'container is not running');
  const v1 = new Map<string, string>();
  let v2path: string | undefined;
  for (const line of cg.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2path = m[3];
    else for (const c of m[2]!.split(',')) v1.set(c, join(CG, m[2]!, m[3]!));
  }
  return { v1, v2path };
}

/** Lift the pids limit of the cgroup of host process `pid` ("max" in pids.max, v1 or v2). */
export async function liftPidsLimit(pid: number): Promise<void> {
  const { v1, v2path } = await cgroupDirs(pid);
  const dir = v1.get('pids') ?? (v2path !== undefined ? join(CG, v2path) : undefined);
  if (!dir) throw new BerthError('ERR_INTERNAL', `no pids cgroup found for process ${pid}`);
  await fsp.writeFile(join(dir, 'pids.max'), 'max');
}

/** Stats for the cgroup(s) of host process `pid` (the container's init). */
export async function readStats(pid: number): Promise<ContainerStats> {
  const { v1, v2path } = await cgroupDirs(pid);
  const read = new Date();
  const onlineCpus = cpus().length || 1;
  const sys = await systemUsage();
  const host = totalmem();
  if (v1.has('memory') || v1.has('cpuacct')) {
    const mem = v1.get('memory');
    const cpuacct = v1.get('cpuacct');
    const cpu = v1.get('cpu');
    const pids = v1.get('pids');
    const blkio = v1.get('blkio');
    const limitRaw = mem ? await readNum(join(mem, 'memory.limit_in_bytes')) : undefined;
    const stat = kv(cpuacct ? await readText(join(cpuacct, 'cpuacct.stat')) : undefined);
    const percpu = cpuacct ? (await readText(join(cpuacct, 'cpuacct.usage_percpu')))?.trim().split(/\s+/).filter(Boolean).map(Number) : undefined;
    const thr = kv(cpu ? await readText(join(cpu, 'cpu.stat')) : undefined);
    const blk = async (name: string) => parseBlkioV1(blkio ? await firstText(blkio, name) : undefined);
    return {
      read,
      cgroupVersion: 1,
      memory: {
        usage: (mem && (await readNum(join(mem, 'memory.usage_in_bytes')))) || 0,
        maxUsage: mem ? await readNum(join(mem, 'memory.max_usage_in_bytes')) : undefined,
        limit: limitRaw === undefined || limitRaw > host ? host : limitRaw,
        stats: kv(mem ? await readText(join(mem, 'memory.stat')) : undefined),
      },
      cpu: {
        totalUsage: (cpuacct && (await readNum(join(cpuacct, 'cpuacct.usage')))) || 0,
        perCpuUsage: percpu,
        usageInKernelmode: ((stat.system ?? 0) * 1e9) / TICKS,
        usageInUsermode: ((stat.user ?? 0) * 1e9) / TICKS,
        systemUsage: sys,
        onlineCpus,
        throttling: { periods: thr.nr_periods ?? 0, throttledPeriods: thr.nr_throttled ?? 0, throttledTime: thr.throttled_time ?? 0 },
      },
      pids: { current: (pids && (await readNum(join(pids, 'pids.current')))) || 0, limit: pids ? await readNum(join(pids, 'pids.max')) : undefined },
      blkio: {
        ioServiceBytesRecursive: await blk('io_service_bytes'),
        ioServicedRecursive: await blk('io_serviced'),
        more: {
          io_queue_recursive: await blk('io_queued'), io_service_time_recursive: await blk('io_service_time'),
          io_wait_time_recursive: await blk('io_wait_time'), io_merged_recursive: await blk('io_merged'),
          io_time_recursive: await blk('time'), sectors_recursive: await blk('sectors'),
        },
      },
    };
  }
  if (v2path === undefined) throw new BerthError('ERR_INTERNAL', `no cgroup found for process ${pid}`);
  const dir = join(CG, v2path);
  const cpuStat = kv(await readText(join(dir, 'cpu.stat')));
  const limit = await readNum(join(dir, 'memory.max'));
  const io: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of ((await readText(join(dir, 'io.stat'))) ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const f = Object.fromEntries(m[3]!.split(' ').map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
    const major = Number(m[1]);
    const minor = Number(m[2]);
    io.push({ major, minor, op: 'read', value: f.rbytes ?? 0 }, { major, minor, op: 'write', value: f.wbytes ?? 0 });
    ios.push({ major, minor, op: 'read', value: f.rios ?? 0 }, { major, minor, op: 'write', value: f.wios ?? 0 });
  }
  return {
    read,
    cgroupVersion: 2,
    memory: {
      usage: (await readNum(join(dir, 'memory.current'))) ?? 0,
      maxUsage: await readNum(join(dir, 'memory.peak')),
      limit: limit === undefined || limit > host ? host : limit,
      stats: kv(await readText(join(dir, 'memory.stat'))),
    },
    cpu: {
      totalUsage: (cpuStat.usage_usec ?? 0) * 1000,
      usageInKernelmode: (cpuStat.system_usec ?? 0) * 1000,
      usageInUsermode: (cpuStat.user_usec ?? 0) * 1000,
      systemUsage: sys,
      onlineCpus,
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTime: (cpuStat.throttled_usec ?? 0) * 1000 },
    },
    pids: { current: (await readNum(join(dir, 'pids.current'))) ?? 0, limit: await readNum(join(dir, 'pids.max')) },
    blkio: { ioServiceBytesRecursive: io, ioServicedRecursive: ios },
  };
}
