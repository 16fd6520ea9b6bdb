// berth tag / image tag
import { BerthError } from '../../errors/index.js';
import { parseReference } from '../../oci/reference.js';
import type { Command } from '../command.js';

const command: Command = {
  usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, args) {
    // Validate the target locally, as docker does, so a bad name never reaches the daemon.
    let target;
    try {
      target = parseReference(args[1]!);
    } catch (e) {
      throw new BerthError('ERR_INVALID_REFERENCE', `Error parsing reference: ${JSON.stringify(args[1])} is not a valid repository/tag: ${(e as Error).message}`);
    }
    if (target.digest !== undefined) throw new BerthError('ERR_INVALID_REFERENCE', 'refusing to create a tag with a digest reference');
    const client = await ctx.client();
    await client.tagImage(args[0]!, args[1]!);
  },
};

export default command;
