// berth image prune
import { filterFlags } from '../args.js';
import { flag, type Command } from '../command.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../format/human.js';

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
    const filters = filterFlags(flag.list(f, 'filter'));
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
