// berth events / system events
import type { EventMessage } from '../../client/types.js';
import { eventTimeNano } from '../../client/client.js';
import { cliError, filterFlags } from '../args.js';
import { getTimestamp } from '../timestamp.js';
import { flag, type Command } from '../command.js';
import { goJson, parseTemplate } from '../format/template.js';

const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');

/** docker's RFC3339NanoFixed in the local zone. */
export function eventTime(e: EventMessage): string {
  const nanos = eventTimeNano(e);
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

const sortedAttrs = (a: Record<string, string> | undefined) => Object.fromEntries(Object.keys(a ?? {}).sort().map((k) => [k, a![k]!]));

/** The event as Go's encoding/json writes docker's events.Message: its field order, empty fields left out, every digit of timeNano. */
export function eventJson(e: EventMessage): string {
  const head = { status: e.status || undefined, id: e.id || undefined, from: e.from || undefined, Type: e.Type, Action: e.Action,
    Actor: { ID: e.Actor?.ID ?? '', Attributes: sortedAttrs(e.Actor?.Attributes) }, scope: e.scope || undefined, time: e.time || undefined };
  const nanos = eventTimeNano(e);
  const body = goJson(head);
  return nanos ? `${body.slice(0, -1)},"timeNano":${nanos}}` : body;
}

/**
 * The event as templates see docker's events.Message: Go's field names (`{{.Status}}`,
 * `{{.Actor.Attributes.name}}`, `{{.TimeNano}}`), while `{{json .}}` still writes the JSON names.
 */
export function eventForTemplate(e: EventMessage): Record<string, unknown> {
  const v: Record<string, unknown> = {
    Status: e.status ?? '', ID: e.id ?? '', From: e.from ?? '', Type: e.Type, Action: e.Action,
    Actor: { ID: e.Actor?.ID ?? '', Attributes: sortedAttrs(e.Actor?.Attributes) }, Scope: e.scope ?? '', Time: e.time ?? 0, TimeNano: e.timeNano ?? 0,
  };
  Object.defineProperty(v, 'toJSON', { enumerable: false, value: () => JSON.parse(eventJson(e)) });
  return v;
}

/** As the docker CLI sends them (durations and local times made absolute here); its errors as they are. */
function stamp(v: string | undefined): string | undefined {
  if (!v) return undefined;
  try { return getTimestamp(v); } catch (e) { throw cliError((e as Error).message, 1); }
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
      for await (const e of client.events({ filters, since: stamp(flag.str(f, 'since')), until: stamp(flag.str(f, 'until')), signal: ac.signal })) {
        ctx.out((format === 'json' ? eventJson(e) : tpl ? tpl.execute(eventForTemplate(e)) : formatEvent(e)) + '\n');
      }
    } finally {
      process.off('SIGINT', stop);
    }
  },
};

export default command;
