// What a CLI command module exports, and the context it runs with.
import type { Client } from '../client/client.js';
import type { FlagSpec, FlagValues } from './args.js';

export interface Context {
  /** Program name used in messages ("berth"). */
  prog: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
  /** -H/--host, when given. */
  host?: string;
  /** Directory of config.json (--config, DOCKER_CONFIG, ~/.docker). */
  configDir: string;
  debug: boolean;
  /** A connected client; auto-starts the local daemon when that applies. */
  client(): Promise<Client>;
  /** Write to stdout / stderr. */
  out(s: string): void;
  err(s: string): void;
}

export interface Command {
  /** Usage after the program name, e.g. "pull [OPTIONS] NAME[:TAG|@DIGEST]". */
  usage: string;
  description: string;
  flags?: FlagSpec[];
  /** Argument count bounds (docker's wording is derived from them). */
  minArgs?: number;
  maxArgs?: number;
  /** Stop parsing flags at the first argument (for commands that pass argv on). */
  interspersed?: boolean;
  /** Pass argv through unparsed (the command parses its own flags, e.g. registry serve). */
  rawArgs?: boolean;
  /** Extra help text after the options. */
  extraHelp?: string;
  run(ctx: Context, args: string[], flags: FlagValues): Promise<number | void>;
}

/** Typed flag getters. */
export const flag = {
  bool: (f: FlagValues, k: string): boolean => f[k] === true,
  str: (f: FlagValues, k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined),
  list: (f: FlagValues, k: string): string[] => (Array.isArray(f[k]) ? (f[k] as string[]) : []),
  int: (f: FlagValues, k: string): number | undefined => (typeof f[k] === 'number' ? (f[k] as number) : undefined),
};
