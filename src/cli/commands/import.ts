// berth import / image import: a filesystem tarball (file, "-" for stdin, or a URL) → an image.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseReference } from '../../oci/reference.js';
import { splitReference } from '../../client/client.js';
import { flag, type Command } from '../command.js';
import { showProgress } from '../stream.js';

const command: Command = {
  usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  description: 'Import the contents from a tarball to create a filesystem image',
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { long: 'change', short: 'c', type: 'list', valueName: 'list', description: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', type: 'string', valueName: 'string', description: 'Set commit message for imported image' },
    { long: 'platform', type: 'string', valueName: 'string', description: 'Set platform if server is multi-platform capable' },
  ],
  async run(ctx, args, f) {
    const [source, target] = args as [string, string | undefined];
    let repo: string | undefined;
    let tag: string | undefined;
    if (target) {
      parseReference(target); // reject bad names before sending anything
      const r = splitReference(target);
      repo = r.name;
      tag = r.tag;
    }
    let src: Readable | string;
    if (source === '-') src = ctx.stdin;
    else if (/^https?:\/\//.test(source)) src = source;
    else {
      const rs = createReadStream(source);
      await new Promise<void>((resolve, reject) => { rs.once('open', () => resolve()); rs.once('error', reject); });
      src = rs;
    }
    const client = await ctx.client();
    await showProgress(ctx, client.importImage(src, {
      repo, tag, message: flag.str(f, 'message'), changes: flag.list(f, 'change'), platform: flag.str(f, 'platform'),
    }));
  },
};

export default command;
