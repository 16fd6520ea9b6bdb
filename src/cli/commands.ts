// The command table. Each row names a command (multi-word for "image ls"-style subcommands), a
// one-line summary for help, and a loader that imports its module only when it runs. New commands
// (containers, networks, …) are added here as rows; main.ts never changes.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Record<string, unknown>>;
  /** Export of the module holding the Command (default: "default"). */
  export?: string;
  /** Listed under "Common Commands" in the top-level help. */
  common?: boolean;
  hidden?: boolean;
}

/** Management-command groups ("berth image …"). */
export const GROUPS: Record<string, string> = {
  image: 'Manage images',
  system: 'Manage Berth',
  registry: 'Run and maintain an OCI distribution registry',
  container: 'Manage containers',
  network: 'Manage networks',
};

const images = () => import('./commands/images.js');
const pull = () => import('./commands/pull.js');
const push = () => import('./commands/push.js');
const tag = () => import('./commands/tag.js');
const rmi = () => import('./commands/rmi.js');
const inspect = () => import('./commands/inspect.js');
const history = () => import('./commands/history.js');
const save = () => import('./commands/save.js');
const load = () => import('./commands/load.js');
const imp = () => import('./commands/import.js');
const login = () => import('./commands/login.js');
const prune = () => import('./commands/image-prune.js');
const version = () => import('./commands/version.js');
const info = () => import('./commands/info.js');
const df = () => import('./commands/df.js');
const events = () => import('./commands/events.js');
const daemon = () => import('./commands/daemon.js');
const registry = () => import('./commands/registry.js');
const ctr = () => import('./commands/containers.js');
const ctrIo = () => import('./commands/container-io.js');
const ctrExtra = () => import('./commands/container-extra.js');
const cp = () => import('./commands/cp.js');
const stats = () => import('./commands/stats.js');
const network = () => import('./commands/network.js');

export const COMMANDS: CommandEntry[] = [
  { name: 'images', summary: 'List images', load: images, common: true },
  { name: 'image ls', summary: 'List images', load: images },
  { name: 'image list', summary: 'List images', load: images, hidden: true },
  { name: 'pull', summary: 'Download an image from a registry', load: pull, common: true },
  { name: 'image pull', summary: 'Download an image from a registry', load: pull },
  { name: 'push', summary: 'Upload an image to a registry', load: push, common: true },
  { name: 'image push', summary: 'Upload an image to a registry', load: push },
  { name: 'tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: tag },
  { name: 'image tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: tag },
  { name: 'rmi', summary: 'Remove one or more images', load: rmi },
  { name: 'image rm', summary: 'Remove one or more images', load: rmi },
  { name: 'image remove', summary: 'Remove one or more images', load: rmi, hidden: true },
  { name: 'inspect', summary: 'Return low-level information on Berth objects', load: inspect },
  { name: 'image inspect', summary: 'Display detailed information on one or more images', load: inspect, export: 'imageInspect' },
  { name: 'history', summary: 'Show the history of an image', load: history },
  { name: 'image history', summary: 'Show the history of an image', load: history },
  { name: 'save', summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: save },
  { name: 'image save', summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: save },
  { name: 'load', summary: 'Load an image from a tar archive or STDIN', load: load },
  { name: 'image load', summary: 'Load an image from a tar archive or STDIN', load: load },
  { name: 'import', summary: 'Import the contents from a tarball to create a filesystem image', load: imp },
  { name: 'image import', summary: 'Import the contents from a tarball to create a filesystem image', load: imp },
  { name: 'image prune', summary: 'Remove unused images', load: prune },
  { name: 'login', summary: 'Authenticate to a registry', load: login, common: true },
  { name: 'logout', summary: 'Log out from a registry', load: login, export: 'logout', common: true },
  { name: 'version', summary: 'Show the Berth version information', load: version, common: true },
  { name: 'info', summary: 'Display system-wide information', load: info, common: true },
  { name: 'system info', summary: 'Display system-wide information', load: info },
  { name: 'system df', summary: 'Show disk usage', load: df },
  { name: 'events', summary: 'Get real time events from the server', load: events },
  { name: 'system events', summary: 'Get real time events from the server', load: events },
  { name: 'daemon', summary: 'Run the Berth daemon', load: daemon },
  { name: 'network ls', summary: 'List networks', load: network, export: 'ls' },
  { name: 'network list', summary: 'List networks', load: network, export: 'ls', hidden: true },
  { name: 'network inspect', summary: 'Display detailed information on one or more networks', load: inspect, export: 'networkInspect' },
  { name: 'network rm', summary: 'Remove one or more networks', load: network, export: 'rm' },
  { name: 'network remove', summary: 'Remove one or more networks', load: network, export: 'rm', hidden: true },
  { name: 'network prune', summary: 'Remove all unused networks', load: network, export: 'prune' },
  { name: 'run', summary: 'Create and run a new container from an image', load: ctr, export: 'run', common: true },
  { name: 'container run', summary: 'Create and run a new container from an image', load: ctr, export: 'run' },
  { name: 'create', summary: 'Create a new container', load: ctr, export: 'create' },
  { name: 'container create', summary: 'Create a new container', load: ctr, export: 'create' },
  { name: 'start', summary: 'Start one or more stopped containers', load: ctr, export: 'start' },
  { name: 'container start', summary: 'Start one or more stopped containers', load: ctr, export: 'start' },
  { name: 'stop', summary: 'Stop one or more running containers', load: ctr, export: 'stop' },
  { name: 'container stop', summary: 'Stop one or more running containers', load: ctr, export: 'stop' },
  { name: 'restart', summary: 'Restart one or more containers', load: ctr, export: 'restart' },
  { name: 'container restart', summary: 'Restart one or more containers', load: ctr, export: 'restart' },
  { name: 'kill', summary: 'Kill one or more running containers', load: ctr, export: 'kill' },
  { name: 'container kill', summary: 'Kill one or more running containers', load: ctr, export: 'kill' },
  { name: 'rm', summary: 'Remove one or more containers', load: ctr, export: 'rm' },
  { name: 'container rm', summary: 'Remove one or more containers', load: ctr, export: 'rm' },
  { name: 'ps', summary: 'List containers', load: ctr, export: 'ps', common: true },
  { name: 'container ls', summary: 'List containers', load: ctr, export: 'ps' },
  { name: 'logs', summary: 'Fetch the logs of a container', load: ctr, export: 'logs' },
  { name: 'container logs', summary: 'Fetch the logs of a container', load: ctr, export: 'logs' },
  { name: 'exec', summary: 'Execute a command in a running container', load: ctr, export: 'exec', common: true },
  { name: 'container exec', summary: 'Execute a command in a running container', load: ctr, export: 'exec' },
  { name: 'wait', summary: 'Block until one or more containers stop, then print their exit codes', load: ctr, export: 'wait' },
  { name: 'container wait', summary: 'Block until one or more containers stop, then print their exit codes', load: ctr, export: 'wait' },
  { name: 'top', summary: 'Display the running processes of a container', load: ctr, export: 'top' },
  { name: 'container top', summary: 'Display the running processes of a container', load: ctr, export: 'top' },
  { name: 'rename', summary: 'Rename a container', load: ctr, export: 'rename' },
  { name: 'container rename', summary: 'Rename a container', load: ctr, export: 'rename' },
  { name: 'pause', summary: 'Pause all processes within one or more containers', load: ctr, export: 'pause' },
  { name: 'container pause', summary: 'Pause all processes within one or more containers', load: ctr, export: 'pause' },
  { name: 'unpause', summary: 'Unpause all processes within one or more containers', load: ctr, export: 'unpause' },
  { name: 'container unpause', summary: 'Unpause all processes within one or more containers', load: ctr, export: 'unpause' },
  { name: 'port', summary: 'List port mappings or a specific mapping for the container', load: ctr, export: 'port' },
  { name: 'container port', summary: 'List port mappings or a specific mapping for the container', load: ctr, export: 'port' },
  { name: 'attach', summary: 'Attach local standard input, output, and error streams to a running container', load: ctrIo, export: 'attach' },
  { name: 'container attach', summary: 'Attach local standard input, output, and error streams to a running container', load: ctrIo, export: 'attach' },
  { name: 'stats', summary: 'Display a live stream of container(s) resource usage statistics', load: stats },
  { name: 'container stats', summary: 'Display a live stream of container(s) resource usage statistics', load: stats },
  { name: 'cp', summary: 'Copy files/folders between a container and the local filesystem', load: cp },
  { name: 'container cp', summary: 'Copy files/folders between a container and the local filesystem', load: cp },
  { name: 'commit', summary: "Create a new image from a container's changes", load: ctrExtra, export: 'commit' },
  { name: 'container commit', summary: "Create a new image from a container's changes", load: ctrExtra, export: 'commit' },
  { name: 'export', summary: "Export a container's filesystem as a tar archive", load: ctrIo, export: 'exportCmd' },
  { name: 'container export', summary: "Export a container's filesystem as a tar archive", load: ctrIo, export: 'exportCmd' },
  { name: 'diff', summary: "Inspect changes to files or directories on a container's filesystem", load: ctrExtra, export: 'diff' },
  { name: 'container diff', summary: "Inspect changes to files or directories on a container's filesystem", load: ctrExtra, export: 'diff' },
  { name: 'update', summary: 'Update configuration of one or more containers', load: ctrExtra, export: 'update' },
  { name: 'container update', summary: 'Update configuration of one or more containers', load: ctrExtra, export: 'update' },
  { name: 'container inspect', summary: 'Display detailed information on one or more containers', load: inspect, export: 'containerInspect' },
  { name: 'container prune', summary: 'Remove all stopped containers', load: ctr, export: 'prune' },
  { name: 'registry serve', summary: 'Serve an OCI distribution registry', load: registry },
  { name: 'registry gc', summary: 'Garbage-collect a registry\'s storage', load: registry, export: 'gc' },
];

/** Add commands from elsewhere (later areas may prefer this to editing the table). */
export function registerCommands(...entries: CommandEntry[]): void {
  COMMANDS.push(...entries);
}

export async function loadCommand(e: CommandEntry): Promise<Command> {
  const mod = await e.load();
  const c = mod[e.export ?? 'default'] as Command | undefined;
  if (!c) throw new Error(`command module for "${e.name}" has no export "${e.export ?? 'default'}"`);
  return c;
}
