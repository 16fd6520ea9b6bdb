// Entry of the `berth` CLI: global flags, command lookup in the table, help, error reporting and
// the exit status. Command modules are imported only when they run (start-up time matters).
import { isBerthError } from '../errors/index.js';
import { parseFlags, flagUsage, cliError, cliErrorInfo, type FlagSpec } from './args.js';
import { COMMANDS, GROUPS, loadCommand, type CommandEntry } from './commands.js';
import type { Command, Context } from './command.js';
import { createContext } from './context.js';

const GLOBAL_FLAGS: FlagSpec[] = [
  { long: 'config', type: 'string', description: 'Location of client config files', valueName: 'string' },
  { long: 'debug', short: 'D', type: 'bool', description: 'Enable debug mode' },
  { long: 'host', short: 'H', type: 'list', description: 'Daemon socket to connect to', valueName: 'list' },
  { long: 'log-level', short: 'l', type: 'string', description: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")', default: 'info' },
  { long: 'help', short: 'h', type: 'bool', description: 'Print usage', hidden: true },
  { long: 'version', short: 'v', type: 'bool', description: 'Print version information and quit' },
];

const HELP_FLAG: FlagSpec = { long: 'help', type: 'bool', description: 'Print usage', hidden: true };

function mainHelp(): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  const col = (rows: [string, string][]) => rows.map(([n, s]) => `  ${n.padEnd(12)}${s}`).join('\n');
  const common = visible.filter((c) => c.common && !c.name.includes(' ')).map((c) => [c.name, c.summary] as [string, string]);
  const groups = Object.entries(GROUPS);
  const others = visible.filter((c) => !c.common && !c.name.includes(' ')).map((c) => [c.name, c.summary] as [string, string]);
  return `
Usage:  berth [OPTIONS] COMMAND

A Docker-compatible container engine

Common Commands:
${col(common)}

Management Commands:
${col(groups)}

Commands:
${col(others)}

Global Options:
${flagUsage(GLOBAL_FLAGS)}

Run 'berth COMMAND --help' for more information on a command.
`;
}

function groupHelp(group: string): string {
  const subs = COMMANDS.filter((c) => c.name.startsWith(group + ' ') && !c.hidden);
  return `
Usage:  berth ${group} COMMAND

${GROUPS[group]}

Commands:
${subs.map((c) => `  ${c.name.slice(group.length + 1).padEnd(12)}${c.summary}`).join('\n')}

Run 'berth ${group} COMMAND --help' for more information on a command.
`;
}

function commandHelp(cmd: Command): string {
  const opts = flagUsage(cmd.flags ?? []);
  return `
Usage:  berth ${cmd.usage}

${cmd.description}
${opts ? `\nOptions:\n${opts}\n` : ''}${cmd.extraHelp ? `\n${cmd.extraHelp}\n` : ''}`;
}

function usageTrailer(name: string, cmd: Command): string {
  return `\n\nUsage:  berth ${cmd.usage}\n\nRun 'berth ${name} --help' for more information`;
}

function argCountError(name: string, cmd: Command, n: number): string | undefined {
  const min = cmd.minArgs ?? 0;
  const max = cmd.maxArgs ?? Infinity;
  if (n >= min && n <= max) return undefined;
  const plural = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === 0) return `'berth ${name}' accepts no arguments`;
  if (min === max) return `'berth ${name}' requires ${plural(min)}`;
  if (n < min && max === Infinity) return `'berth ${name}' requires at least ${plural(min)}`;
  if (n > max && min === 0) return `'berth ${name}' requires at most ${plural(max)}`;
  return `'berth ${name}' requires at least ${min} and at most ${plural(max)}`;
}

function findEntry(args: string[]): { entry?: CommandEntry; used: number } {
  if (args.length >= 2) {
    const two = `${args[0]} ${args[1]}`;
    const e = COMMANDS.find((c) => c.name === two);
    if (e) return { entry: e, used: 2 };
  }
  const e = COMMANDS.find((c) => c.name === args[0]);
  return { entry: e, used: 1 };
}

/** Print an error the way docker does and return the exit status. */
async function report(e: unknown, ctx: Context, trailer: string): Promise<number> {
  const cli = cliErrorInfo(e);
  if (cli) {
    if (cli.hint) {
      const help = trailer.lastIndexOf('\n\nRun ');
      ctx.err(`berth: ${(e as Error).message}${help >= 0 ? trailer.slice(help) : ''}\n`);
    } else ctx.err(`${(e as Error).message}${cli.usage ? trailer : ''}\n`);
    return cli.exitCode;
  }
  if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return 0;
  if (isBerthError(e)) {
    const { daemonErrorInfo } = await import('../client/transport.js');
    const d = daemonErrorInfo(e);
    ctx.err(d && !d.inStream ? `Error response from daemon: ${e.message}\n` : `${e.message}\n`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (!ctx.debug && err?.syscall && err.path) {
    // Go-style "open /x: no such file or directory" rather than node's "ENOENT: …, open '/x'".
    const m = /^[A-Z]+: (.*?), \w+/.exec(err.message);
    ctx.err(`${err.syscall} ${err.path}: ${m ? m[1] : err.message}\n`);
    return 1;
  }
  ctx.err(`berth: ${ctx.debug && err?.stack ? err.stack : err?.message ?? String(e)}\n`);
  return 1;
}

/** Run a command line; returns the exit status (never exits). */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let global;
  const bootstrap = createContext({ debug: false }, env);
  try {
    global = parseFlags(argv, GLOBAL_FLAGS, { interspersed: false });
  } catch (e) {
    return report(e, bootstrap, `\n\nRun 'berth --help' for more information`);
  }
  const g = global.flags;
  const hosts = g.host as string[];
  const ctx = createContext({ host: hosts[hosts.length - 1], config: g.config as string | undefined, debug: g.debug === true }, env);
  if (g.version === true) {
    const { packageInfo } = await import('./meta.js');
    ctx.out(`Berth version ${packageInfo().version}\n`);
    return 0;
  }
  let args = global.args;
  if (args[0] === 'help') {
    args = [...args.slice(1), '--help'];
    if (args.length === 1) { ctx.out(mainHelp()); return 0; }
  }
  if (args.length === 0) {
    ctx.out(mainHelp());
    return 0;
  }
  const { entry, used } = findEntry(args);
  if (!entry) {
    const group = args[0]!;
    if (GROUPS[group]) {
      const sub = args[1];
      if (sub === undefined || sub === '--help' || sub === '-h') { ctx.out(groupHelp(group)); return 0; }
      ctx.err(`berth: unknown command: berth ${group} ${sub}\n\nRun 'berth ${group} --help' for more information\n`);
      return 1;
    }
    ctx.err(`berth: unknown command: berth ${group}\n\nRun 'berth --help' for more information\n`);
    return 1;
  }
  const name = entry.name;
  let cmd: Command;
  try {
    cmd = await loadCommand(entry);
  } catch (e) {
    return report(e, ctx, '');
  }
  const trailer = usageTrailer(name, cmd);
  try {
    if (cmd.rawArgs) return (await cmd.run(ctx, args.slice(used), {})) ?? 0;
    const specs = [...(cmd.flags ?? [])];
    if (!specs.some((s) => s.long === 'help')) specs.push(specs.some((s) => s.short === 'h') ? HELP_FLAG : { ...HELP_FLAG, short: 'h' });
    const parsed = parseFlags(args.slice(used), specs, { interspersed: cmd.interspersed ?? true });
    // pflag prints these on the command's output, stdout.
    for (const w of parsed.warnings) ctx.out(`${w}\n`);
    if (parsed.flags.help === true) { ctx.out(commandHelp(cmd)); return 0; }
    const countErr = argCountError(name, cmd, parsed.args.length);
    if (countErr) {
      // The docker CLI ends "requires at least N" (no upper bound) with "See '… --help'", the rest with "Run".
      const see = countErr.includes('requires at least') && !countErr.includes('at most');
      throw cliError(`berth: ${countErr}${see ? trailer.replace("\n\nRun '", "\n\nSee '") : ''}`, 1, !see);
    }
    const code = await cmd.run(ctx, parsed.args, parsed.flags);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    return report(e, ctx, trailer);
  }
}

/** The process entry (bin/berth): run, flush, exit with the command's status. */
export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  const code = await run(argv);
  // Let pending writes to pipes drain before exiting.
  if (process.stdout.writableLength > 0) await new Promise((r) => process.stdout.once('drain', r));
  if (process.stderr.writableLength > 0) await new Promise((r) => process.stderr.once('drain', r));
  process.exit(code);
}
