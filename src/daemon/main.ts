// Stand-alone daemon entry (node dist/src/daemon/main.js daemon-flags...), used by tests until
// and alongside the `berth daemon` CLI command.
import { DEFAULT_EXEC_ROOT, DEFAULT_ROOT, runDaemon, type DaemonOptions } from './index.js';

export function parseDaemonArgs(argv: string[]): DaemonOptions {
  const o: DaemonOptions = { root: DEFAULT_ROOT, execRoot: DEFAULT_EXEC_ROOT, hosts: [], logLevel: 'info', insecureRegistries: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i] ?? '');
    switch (name) {
      case 'daemon': break;
      case '--root': case '--data-root': o.root = val(); break;
      case '--exec-root': o.execRoot = val(); break;
      case '-H': case '--host': o.hosts.push(val()); break;
      case '-l': case '--log-level': o.logLevel = val(); break;
      case '--insecure-registry': o.insecureRegistries!.push(val()); break;
      case '-D': case '--debug': o.logLevel = 'debug'; break;
      default: throw new Error(`unknown flag: ${a}`);
    }
  }
  return o;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runDaemon(parseDaemonArgs(process.argv.slice(2))).then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`berth daemon: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
