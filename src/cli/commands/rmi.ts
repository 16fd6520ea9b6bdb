// berth rmi / image rm
import { flag, type Command } from '../command.js';

const command: Command = {
  usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  description: 'Remove one or more images',
  minArgs: 1,
  flags: [
    { long: 'force', short: 'f', type: 'bool', description: 'Force removal of the image' },
    { long: 'no-prune', type: 'bool', description: 'Do not delete untagged parents' },
  ],
  async run(ctx, args, f) {
    const client = await ctx.client();
    const { daemonErrorInfo } = await import('../../client/transport.js');
    let failed = false;
    for (const name of args) {
      try {
        const items = await client.removeImage(name, { force: flag.bool(f, 'force'), noprune: flag.bool(f, 'no-prune') });
        for (const it of items ?? []) {
          if (it.Untagged) ctx.out(`Untagged: ${it.Untagged}\n`);
          if (it.Deleted) ctx.out(`Deleted: ${it.Deleted}\n`);
        }
      } catch (e) {
        failed = true;
        const d = daemonErrorInfo(e);
        ctx.err(`${d ? 'Error response from daemon: ' : ''}${(e as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

export default command;
