// berth network ls / rm / prune (the built-in networks: bridge, host, none); `network inspect` is
// inspect.ts's networkInspect.
import { isBerthError } from '../../errors/index.js';
import { filterFlags } from '../args.js';
import { flag, type Command } from '../command.js';
import { confirm } from '../confirm.js';
import { renderRows, type Row } from '../format/output.js';

const HEADERS: Row = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

/** Docker's "2006-01-02 15:04:05.999999999 -0700 MST" for an RFC 3339 time. */
function createdAt(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}${(m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '')} +0000 UTC` : iso;
}

export const ls: Command = {
  usage: 'network ls [OPTIONS]',
  description: 'List networks',
  maxArgs: 0,
  flags: [
    { long: 'filter', short: 'f', type: 'list', valueName: 'filter', description: 'Provide filter values (e.g. "driver=bridge")' },
    { long: 'format', type: 'string', valueName: 'string', description: 'Format output using a custom template:\n      \'table\':            Print output in table format with column headers (default)\n      \'json\':             Print in JSON format\n      \'TEMPLATE\':         Print output using the given Go template' },
    { long: 'no-trunc', type: 'bool', description: 'Do not truncate the output' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Only display network IDs' },
  ],
  async run(ctx, _args, f) {
    const client = await ctx.client();
    const nets = await client.listNetworks(filterFlags(flag.list(f, 'filter')));
    nets.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    const rows: Row[] = nets.map((n) => ({
      ID: flag.bool(f, 'no-trunc') ? n.Id : n.Id.slice(0, 12), Name: n.Name, Driver: n.Driver, Scope: n.Scope,
      IPv6: String(n.EnableIPv6), Internal: String(n.Internal),
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: createdAt(n.Created),
    }));
    const quiet = flag.bool(f, 'quiet');
    ctx.out(renderRows(quiet ? undefined : flag.str(f, 'format'), quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', HEADERS, rows));
  },
};

export const rm: Command = {
  usage: 'network rm NETWORK [NETWORK...]',
  description: 'Remove one or more networks',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', description: 'Do not error if the network does not exist' }],
  async run(ctx, args, f) {
    const client = await ctx.client();
    let failed = false;
    for (const name of args) {
      try {
        await client.removeNetwork(name);
        ctx.out(`${name}\n`);
      } catch (e) {
        if (flag.bool(f, 'force') && isBerthError(e) && e.status === 404) continue;
        ctx.err(`Error response from daemon: ${(e as Error).message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  },
};

export const prune: Command = {
  usage: 'network prune [OPTIONS]',
  description: 'Remove all unused networks',
  maxArgs: 0,
  flags: [
    { long: 'filter', type: 'list', valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, f) {
    const filters = filterFlags(flag.list(f, 'filter'));
    if (!flag.bool(f, 'force') && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
    const client = await ctx.client();
    const r = await client.pruneNetworks(filters);
    const gone = r.NetworksDeleted ?? [];
    if (gone.length) ctx.out(`Deleted Networks:\n${gone.map((n) => `${n}\n`).join('')}\n`);
    return 0;
  },
};
