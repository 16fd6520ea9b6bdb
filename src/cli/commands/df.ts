// berth system df
import type { DiskUsage } from '../../client/types.js';
import { flag, type Command } from '../command.js';
import { humanSize } from '../format/human.js';
import { renderRows, type Row } from '../format/output.js';
import { imageRows } from './images.js';

interface Usage { total: number; active: number; size: number; reclaimable: number }

const num = (v: unknown) => (typeof v === 'number' && v > 0 ? v : 0);

/** Totals per type from either the legacy (≤1.51) or the current /system/df shape. */
export function usageSummary(d: DiskUsage): { images: Usage; containers: Usage; volumes: Usage; cache: Usage } {
  const fromNew = (u: { ActiveCount?: number; TotalCount?: number; Reclaimable?: number; TotalSize?: number } | undefined): Usage | undefined => u && {
    total: num(u.TotalCount), active: num(u.ActiveCount), size: num(u.TotalSize), reclaimable: num(u.Reclaimable),
  };
  const images = fromNew(d.ImageUsage) ?? (() => {
    const list = d.Images ?? [];
    const size = typeof d.LayersSize === 'number' ? d.LayersSize : list.reduce((a, i) => a + num(i.Size), 0);
    let used = 0;
    let active = 0;
    for (const i of list) if (num(i.Containers) > 0) { active++; used += num(i.Size) - num(i.SharedSize); }
    return { total: list.length, active, size, reclaimable: Math.max(0, size - used) };
  })();
  const containers = fromNew(d.ContainerUsage) ?? (() => {
    const list = d.Containers ?? [];
    let size = 0, rec = 0, active = 0;
    for (const c of list) {
      const s = num(c.SizeRw);
      size += s;
      if (c.State === 'running') active++; else rec += s;
    }
    return { total: list.length, active, size, reclaimable: rec };
  })();
  const volumes = fromNew(d.VolumeUsage) ?? (() => {
    const list = d.Volumes ?? [];
    let size = 0, rec = 0, active = 0;
    for (const v of list) {
      const u = (v.UsageData ?? {}) as { Size?: number; RefCount?: number };
      size += num(u.Size);
      if (num(u.RefCount) > 0) active++; else rec += num(u.Size);
    }
    return { total: list.length, active, size, reclaimable: rec };
  })();
  const cache = fromNew(d.BuildCacheUsage) ?? (() => {
    const list = d.BuildCache ?? [];
    let size = 0, rec = 0, active = 0;
    for (const b of list) {
      if (b.Shared) continue;
      size += num(b.Size);
      if (b.InUse) active++; else rec += num(b.Size);
    }
    return { total: list.length, active, size, reclaimable: rec };
  })();
  return { images, containers, volumes, cache };
}

const pct = (u: Usage) => (u.size > 0 ? `${humanSize(u.reclaimable, 4)} (${Math.trunc((u.reclaimable * 100) / u.size)}%)` : humanSize(u.reclaimable, 4));

const HEADERS: Row = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

const command: Command = {
  usage: 'system df [OPTIONS]',
  description: 'Show disk usage',
  maxArgs: 0,
  flags: [
    { long: 'format', type: 'string', valueName: 'string', description: 'Format output using a custom template (\'table\', \'table TEMPLATE\', \'json\', \'TEMPLATE\')' },
    { long: 'verbose', short: 'v', type: 'bool', description: 'Show detailed information on space usage' },
  ],
  async run(ctx, _args, f) {
    const client = await ctx.client();
    const d = await client.df();
    const s = usageSummary(d);
    if (flag.bool(f, 'verbose')) {
      const imgs = d.Images ?? d.ImageUsage?.Items ?? [];
      const rows = imageRows(imgs, { digests: false, noTrunc: false });
      ctx.out('Images space usage:\n\n');
      ctx.out(renderRows(undefined, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
        { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' }, rows));
      ctx.out(`\nContainers space usage:\n\n${(d.Containers ?? []).length ? '' : 'CONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n'}`);
      ctx.out(`\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n`);
      ctx.out(`\nBuild cache usage: ${humanSize(s.cache.size, 4)}\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n`);
      return;
    }
    const row = (type: string, u: Usage): Row => ({
      Type: type, TotalCount: String(u.total), Active: String(u.active), Size: humanSize(u.size, 4), Reclaimable: pct(u),
    });
    const rows = [row('Images', s.images), row('Containers', s.containers), row('Local Volumes', s.volumes), row('Build Cache', s.cache)];
    ctx.out(renderRows(flag.str(f, 'format'), 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', HEADERS, rows));
  },
};

export default command;
