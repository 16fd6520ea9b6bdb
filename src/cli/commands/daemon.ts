// berth daemon: run the engine and serve the API until SIGTERM/SIGINT.
import { flag, type Command } from '../command.js';

const command: Command = {
  usage: 'daemon [OPTIONS]',
  description: 'Run the Berth daemon',
  maxArgs: 0,
  flags: [
    { long: 'root', type: 'string', valueName: 'string', description: 'Root directory of persistent state', default: '/var/lib/berth' },
    { long: 'data-root', type: 'string', valueName: 'string', description: 'Alias of --root', hidden: true },
    { long: 'exec-root', type: 'string', valueName: 'string', description: 'Root directory for execution state files', default: '/run/berth' },
    { long: 'host', short: 'H', type: 'list', valueName: 'list', description: 'Daemon socket(s) to listen on (unix:///path, tcp://host:port)' },
    { long: 'log-level', short: 'l', type: 'string', valueName: 'string', description: 'Set the logging level ("debug"|"info"|"warn"|"error")', default: 'info' },
    { long: 'debug', short: 'D', type: 'bool', description: 'Enable debug mode' },
    { long: 'insecure-registry', type: 'list', valueName: 'list', description: 'Registries to reach over plain HTTP or unverified TLS' },
  ],
  async run(_ctx, _args, f) {
    const { runDaemon } = await import('../../daemon/index.js');
    await runDaemon({
      root: flag.str(f, 'data-root') ?? flag.str(f, 'root')!,
      execRoot: flag.str(f, 'exec-root')!,
      hosts: flag.list(f, 'host'),
      logLevel: flag.bool(f, 'debug') ? 'debug' : flag.str(f, 'log-level')!,
      insecureRegistries: flag.list(f, 'insecure-registry'),
    });
  },
};

export default command;
