// Node 20 reads and parses the whole NODE_EXTRA_CA_CERTS file as it starts, before any of our
// code runs: with the system bundle (/etc/ssl/certs/ca-certificates.crt, ~140 certificates) that is
// ~70 ms on the 2-core test host, on every `berth` command, where `node -e 0` takes ~35 ms without
// it (the daemon paid it at every start, though it needs the CAs only once it pulls). So bin/berth
// starts node without the variable and keeps its value in BERTH_EXTRA_CA_CERTS, and what connects
// out over TLS (the registry client, `import URL`, `registry serve --proxy`) adds those
// certificates back here when it first connects, so it trusts what NODE_EXTRA_CA_CERTS would have
// given it: Node's bundled roots plus the file's.
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { Agent } from 'undici';
import { log } from './log.js';

let cached: string[] | null | undefined;

/**
 * The CA list for TLS connections when bin/berth moved NODE_EXTRA_CA_CERTS aside; undefined when
 * Node's default store already is right (the variable was never set, or node read it itself).
 */
export function extraCaList(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (env === process.env && cached !== undefined) return cached ?? undefined;
  let list: string[] | null = null;
  const file = env.BERTH_EXTRA_CA_CERTS;
  if (file && !env.NODE_EXTRA_CA_CERTS) {
    try {
      const certs = readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      list = [...rootCertificates, ...certs];
    } catch (e) {
      // What node does with an unreadable NODE_EXTRA_CA_CERTS: warn, and go on with its own roots.
      log.warn(`ignoring extra certs from ${file}, load failed`, { error: (e as Error).message });
    }
  }
  if (env === process.env) cached = list;
  return list ?? undefined;
}

let context: SecureContext | undefined;

/**
 * undici Agent options for outgoing TLS: the extra CAs when they apply, nothing otherwise. One
 * secure context for the process (a `ca` list alone would be parsed again for every connection).
 */
export function tlsConnectOptions(): { connect?: { secureContext: SecureContext } } {
  const ca = extraCaList();
  if (!ca) return {};
  context ??= createSecureContext({ ca });
  return { connect: { secureContext: context } };
}

let agent: Agent | undefined;

/**
 * fetch() trusting what NODE_EXTRA_CA_CERTS named; Node's own fetch when nothing was moved aside.
 * undici (the npm package, for its dispatcher option) loads only in the first case.
 */
export async function trustedFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  if (!extraCaList()) return fetch(url, init);
  const undici = await import('undici');
  agent ??= new undici.Agent(tlsConnectOptions());
  return undici.fetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
}
