// berth image prune
import { createInterface } from 'node:readline';
import { cliError } from '../args.js';
import { flag, type Command, type Context } from '../command.js';
import { humanSize } from '../format/human.js';

async function confirm(ctx: Context, warning: string): Promise<boolean> {
  ctx.out(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally { rl.close(); }
}

const command: Command = {
  usage: 'image prune [OPTIONS]',
  description: 'Remove unused images',
  maxArgs: 0,
  flags: [
    { long: 'all', short: 'a', type: 'bool', description: 'Remove all unused images, not just dangling ones' },
    { long: 'filter', type: 'list', valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, f) {
    const all = flag.bool(f, 'all');
    const filters: Record<string, string[]> = {};
    for (const x of flag.list(f, 'filter')) {
      const i = x.indexOf('=');
      if (i <= 0) throw cliError('bad format of filter (expected name=value)');
      (filters[x.slice(0, i)] ??= []).push(x.slice(i + 1));
    }
    filters.dangling = [all ? 'false' : 'true'];
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!flag.bool(f, 'force') && !(await confirm(ctx, warning))) return 0;
    const client = await ctx.client();
    const r = await client.pruneImages(filters);
    const items = r.ImagesDeleted ?? [];
    if (items.length) {
      ctx.out('Deleted Images:\n');
      for (const it of items) {
        if (it.Untagged) ctx.out(`untagged: ${it.Untagged}\n`);
        if (it.Deleted) ctx.out(`deleted: ${it.Deleted}\n`);
      }
      ctx.out('\n');
    }
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0, 4)}\n`);
  },
};

export default command;
