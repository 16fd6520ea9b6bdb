// Spawning the few system tools networking needs (ip, nsenter, iptables-restore): no shell, input on stdin.
import { spawn } from 'node:child_process';
import { errors } from '../errors/index.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ToolResult { code: number; stdout: string; stderr: string }

/** `netns`: run the tool in that network namespace (a pinned namespace file), as `nsenter --net` would. */
export type ToolRunner = (bin: string, args: string[], input?: string, netns?: string) => Promise<ToolResult>;
let runner: ToolRunner | undefined;

/**
 * Run tools through `r` instead of spawning them from this process (the engine passes the runtime
 * helper's server: a fork of the daemon costs milliseconds of event-loop time per command). A
 * runner that throws falls back to a plain spawn.
 */
export function setToolRunner(r: ToolRunner | undefined): void {
  runner = r;
}

export async function tool(bin: string, args: string[], input?: string, netns?: string): Promise<ToolResult> {
  if (runner) {
    try { return await runner(bin, args, input, netns); } catch { /* spawn it ourselves */ }
  }
  return netns ? spawnTool('nsenter', [`--net=${netns}`, bin, ...args], input) : spawnTool(bin, args, input);
}

function spawnTool(bin: string, args: string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { PATH: process.env.PATH || PATH, LC_ALL: 'C' },
      stdio: [input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(errors.internal(`network: cannot run ${bin}: ${e.message}`, e)));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    if (input !== undefined) {
      child.stdin!.on('error', () => { /* the tool exited early; its status says why */ });
      child.stdin!.end(input);
    }
  });
}

/** Run and throw a BerthError carrying the tool's stderr when it fails. */
export async function mustTool(what: string, bin: string, args: string[], input?: string, netns?: string): Promise<ToolResult> {
  const r = await tool(bin, args, input, netns);
  if (r.code !== 0) throw errors.internal(`${what}: ${bin} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  return r;
}
