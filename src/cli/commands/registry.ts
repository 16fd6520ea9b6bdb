// berth registry serve | gc: the registry server parses its own flags.
import type { Command } from '../command.js';

const command: Command = {
  usage: 'registry serve [OPTIONS]',
  description: 'Serve an OCI distribution registry',
  rawArgs: true,
  async run(_ctx, args) {
    const { registryServeCommand } = await import('../../registry/server/main.js');
    return registryServeCommand(args);
  },
};

export const gc: Command = {
  usage: 'registry gc [OPTIONS]',
  description: 'Garbage-collect a registry\'s storage',
  rawArgs: true,
  async run(_ctx, args) {
    const { registryGcCommand } = await import('../../registry/server/main.js');
    return registryGcCommand(args);
  },
};

export default command;
