// berth events / system events
import type { EventMessage } from '../../client/types.js';
import { filterFlags } from '../args.js';
import { flag, type Command } from '../command.js';
import { goJson, parseTemplate } from '../format/template.js';

const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');

/** docker's RFC3339NanoFixed in the local zone. */
export function eventTime(e: EventMessage): string {
  const nanos = e.timeNano ? BigInt(e.timeNano) : BigInt(e.time ?? 0) * 1_000_000_000n;
  const ms = Number(nanos / 1_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const frac = pad(nanos % 1_000_000_000n, 9);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${zone}`;
}

export function formatEvent(e: EventMessage): string {
  let s = `${eventTime(e)} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s;
}

const command: Command = {
  usage: 'events [OPTIONS]',
  description: 'Get real time events from the server',
  maxArgs: 0,
  flags: [
    { long: 'filter', short: 'f', type: 'list', valueName: 'filter', description: 'Filter output based on conditions provided' },
    { long: 'format', type: 'string', valueName: 'string', description: 'Format output using a custom template (\'json\', \'TEMPLATE\')' },
    { long: 'since', type: 'string', valueName: 'string', description: 'Show all events created since timestamp' },
    { long: 'until', type: 'string', valueName: 'string', description: 'Stream events until this timestamp' },
  ],
  async run(ctx, _args, f) {
    const filters = filterFlags(flag.list(f, 'filter'));
    const format = flag.str(f, 'format');
    const tpl = format && format !== 'json' ? parseTemplate(format) : undefined;
    const client = await ctx.client();
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    try {
      for await (const e of client.events({ filters, since: flag.str(f, 'since'), until: flag.str(f, 'until'), signal: ac.signal })) {
        ctx.out((format === 'json' ? goJson(e) : tpl ? tpl.execute(e) : formatEvent(e)) + '\n');
      }
    } finally {
      process.off('SIGINT', stop);
    }
  },
};

export default command;
