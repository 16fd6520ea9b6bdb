// berth save / image save: stream the archive to -o FILE (temp → fsync → rename) or to stdout.
import { createWriteStream, promises as fsp } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cliError } from '../args.js';
import { checkOutputPath } from '../output-path.js';
import { flag, type Command } from '../command.js';

const command: Command = {
  usage: 'save [OPTIONS] IMAGE [IMAGE...]',
  description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  minArgs: 1,
  flags: [
    { long: 'output', short: 'o', type: 'string', valueName: 'string', description: 'Write to a file, instead of STDOUT' },
    { long: 'platform', type: 'string', valueName: 'string', description: 'Save only the given platform variant' },
  ],
  async run(ctx, args, f) {
    const out = flag.str(f, 'output');
    if (!out && ctx.stdout.isTTY) throw cliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (out) await checkOutputPath(out, 'failed to save image');
    const client = await ctx.client();
    const tar = await client.save(args, { platform: flag.str(f, 'platform') });
    if (!out) {
      await pipeline(tar, ctx.stdout, { end: false });
      return;
    }
    const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
    try {
      const ws = createWriteStream(tmp, { mode: 0o644 });
      await pipeline(tar, ws);
      const fh = await fsp.open(tmp, 'r+');
      try { await fh.sync(); } finally { await fh.close(); }
      await fsp.rename(tmp, out);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  },
};

export default command;
