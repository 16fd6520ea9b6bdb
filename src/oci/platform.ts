// Platforms ("os/arch[/variant]"): parsing, normalisation and the default for this host.
import { BerthError } from '../errors/index.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

// Aliases Docker accepts for architectures (and the variant they imply).
const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
};

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** Normalise architecture and variant the way containerd's platforms package does. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = ARCH_ALIASES[architecture];
  if (alias) { architecture = alias.architecture; variant = variant ?? alias.variant; }
  if (architecture === 'arm64') {
    if (variant === '8' || variant === 'v8') variant = undefined;
  } else if (architecture === 'arm') {
    if (variant === undefined || variant === '7') variant = 'v7';
    else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
  } else if (architecture === 'amd64') {
    if (variant === 'v1') variant = undefined;
  }
  const out: Platform = { os, architecture };
  if (variant) out.variant = variant;
  return out;
}

/** Parse "os/arch[/variant]" (also "os" alone or "arch" alone is refused: Docker requires os/arch). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => x === '' || !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw new BerthError('ERR_INVALID_ARGUMENT', `"${s}": unknown operating system or architecture: invalid argument`);
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The platform of this host (linux/amd64 on x86-64). */
export function defaultPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return normalizePlatform({ os: 'linux', architecture });
}

/** Does a descriptor platform satisfy the wanted one? Variant must match when both name one. */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have || !have.os || !have.architecture) return false;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || h.variant === undefined || w.variant === h.variant;
}

/** The platform a request names, or this host's when it names none (Docker's rule for pulls). */
export function requestedPlatform(s: string | undefined): Platform {
  return s ? parsePlatform(s) : defaultPlatform();
}
