// berth inspect (any object type) and berth image inspect.
import type { Client } from '../../client/client.js';
import { isBerthError } from '../../errors/index.js';
import { flag, type Command, type Context } from '../command.js';
import { goJson, parseTemplate } from '../format/template.js';
import type { FlagValues } from '../args.js';

/** Object kinds `berth inspect` tries in order (volumes come with named volumes). */
export interface Inspector {
  type: string;
  inspect(client: Client, name: string, opts: { size: boolean }): Promise<unknown>;
  /** The object as a template sees it, where the docker CLI's typed decoding shows it differently. */
  forTemplate?(v: unknown): unknown;
}

// The image config fields the docker CLI decodes an image's Config into (the OCI image config
// and Docker's additions), all left out when empty: templates see what it sees.
const IMAGE_CONFIG_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell'];

const isEmpty = (v: unknown) => v === null || v === undefined || v === '' || v === false || v === 0
  || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

/** An image as templates see it through the docker CLI's types: Config trimmed, GraphDriver.Data in Go's map order. */
export function imageForTemplate(img: Record<string, unknown>): Record<string, unknown> {
  const out = { ...img };
  const cfg = img.Config as Record<string, unknown> | null | undefined;
  if (cfg && typeof cfg === 'object') out.Config = Object.fromEntries(IMAGE_CONFIG_FIELDS.filter((k) => !isEmpty(cfg[k])).map((k) => [k, cfg[k]]));
  const gd = img.GraphDriver as { Data?: Record<string, unknown> | null; Name?: string } | undefined;
  if (gd?.Data) out.GraphDriver = { Data: Object.fromEntries(Object.keys(gd.Data).sort().map((k) => [k, gd.Data![k]])), Name: gd.Name };
  return out;
}

export const INSPECTORS: Inspector[] = [
  { type: 'container', inspect: (c, name, o) => c.transport.json({ path: `/containers/${encodeURIComponent(name)}/json`, query: { size: o.size || undefined } }) },
  { type: 'image', inspect: (c, name) => c.inspectImage(name), forTemplate: (v) => imageForTemplate(v as Record<string, unknown>) },
  { type: 'network', inspect: (c, name) => c.inspectNetwork(name) },
];

function escapeIndented(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON with 4-space indentation and Go's HTML escaping, as docker prints inspect output. */
export function indentJson(v: unknown): string {
  return escapeIndented(JSON.stringify(v, null, 4));
}

async function runInspect(ctx: Context, names: string[], f: FlagValues, only?: string): Promise<number> {
  const format = flag.str(f, 'format');
  const type = only ?? flag.str(f, 'type');
  const kinds = type ? INSPECTORS.filter((i) => i.type === type) : INSPECTORS;
  if (type && kinds.length === 0) {
    // The docker CLI's words, its list of types included (swarm ones too).
    ctx.err(`unknown type: "${type}": must be one of "config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"\n`);
    return 1;
  }
  const tpl = format && format !== 'json' ? parseTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')) : undefined;
  const client = await ctx.client();
  const { daemonErrorInfo } = await import('../../client/transport.js');
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    let hit: unknown;
    let lastErr: unknown;
    for (const k of kinds) {
      try {
        hit = await k.inspect(client, name, { size: flag.bool(f, 'size') });
        if (tpl && k.forTemplate) hit = k.forTemplate(hit);
        break;
      } catch (e) {
        if (!(isBerthError(e) && e.status === 404)) throw e;
        lastErr = e;
      }
    }
    if (hit === undefined) {
      // One kind asked for (a `container inspect`, or --type): the daemon's words, as the docker CLI.
      if (type && lastErr && daemonErrorInfo(lastErr)) errors.push(`Error response from daemon: ${(lastErr as Error).message}`);
      else errors.push(`Error: No such object: ${name}`);
      continue;
    }
    found.push(hit);
  }
  if (tpl) {
    for (const v of found) ctx.out(tpl.execute(v) + '\n');
    if (found.length === 0) ctx.out('\n'); // the docker CLI's empty line when nothing was found
  } else {
    ctx.out(indentJson(found) + '\n');
  }
  for (const e of errors) ctx.err(e + '\n');
  return errors.length ? 1 : 0;
}

const formatFlag = { long: 'format', short: 'f', type: 'string' as const, valueName: 'string', description: 'Format output using a custom template:\n      \'json\':             Print in JSON format\n      \'TEMPLATE\':         Print output using the given Go template' };

const command: Command = {
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  description: 'Return low-level information on Berth objects',
  minArgs: 1,
  flags: [
    formatFlag,
    { long: 'size', short: 's', type: 'bool', description: 'Display total file sizes if the type is container' },
    { long: 'type', type: 'string', valueName: 'string', description: 'Only inspect objects of the given type' },
  ],
  run: (ctx, args, f) => runInspect(ctx, args, f),
};

export const imageInspect: Command = {
  usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]',
  description: 'Display detailed information on one or more images',
  minArgs: 1,
  flags: [formatFlag, { long: 'platform', type: 'string', valueName: 'string', description: 'Inspect a specific platform of the multi-platform image.' }],
  run: (ctx, args, f) => runInspect(ctx, args, f, 'image'),
};

export const containerInspect: Command = {
  usage: 'container inspect [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Display detailed information on one or more containers',
  minArgs: 1,
  flags: [formatFlag, { long: 'size', short: 's', type: 'bool', description: 'Display total file sizes' }],
  run: (ctx, args, f) => runInspect(ctx, args, f, 'container'),
};

export const networkInspect: Command = {
  usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
  description: 'Display detailed information on one or more networks',
  minArgs: 1,
  flags: [formatFlag, { long: 'verbose', short: 'v', type: 'bool', description: 'Verbose output for diagnostics' }],
  run: (ctx, args, f) => runInspect(ctx, args, f, 'network'),
};

export default command;
