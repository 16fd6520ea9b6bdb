// berth load / image load
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { cliError } from '../args.js';
import { flag, type Command } from '../command.js';
import { showProgress } from '../stream.js';

const command: Command = {
  usage: 'load [OPTIONS]',
  description: 'Load an image from a tar archive or STDIN',
  maxArgs: 0,
  flags: [
    { long: 'input', short: 'i', type: 'string', valueName: 'string', description: 'Read from tar archive file, instead of STDIN' },
    { long: 'platform', type: 'string', valueName: 'string', description: 'Load only the given platform variant' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Suppress the load output' },
  ],
  async run(ctx, _args, f) {
    const input = flag.str(f, 'input');
    if (!input && ctx.stdin.isTTY) throw cliError('requested load from stdin, but stdin is empty');
    let src: Readable;
    if (input) {
      src = createReadStream(input);
      // Surface a missing file before contacting the daemon.
      await new Promise<void>((resolve, reject) => { src.once('open', () => resolve()); src.once('error', reject); });
    } else {
      src = ctx.stdin;
    }
    const client = await ctx.client();
    await showProgress(ctx, client.load(src, { quiet: flag.bool(f, 'quiet') }), { quiet: false });
  },
};

export default command;
