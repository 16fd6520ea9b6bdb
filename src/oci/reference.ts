// Docker image references: grammar, normalisation and the "familiar" short form.
// Grammar facts from the distribution reference package: a name is [domain/]path, path components
// are lowercase alnum joined by '.', '_', '__' or runs of '-'; tags are \w[\w.-]{0,127}.
import { BerthError } from '../errors/index.js';
import { isDigest } from '../util/digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const DEFAULT_REGISTRY_HOST = 'registry-1.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const ID_RE = /^[a-f0-9]{64}$/;
const NAME_TOTAL_MAX = 255;

export interface Reference {
  /** Registry host as written after normalisation, e.g. docker.io, localhost:5000. */
  domain: string;
  /** Repository path inside the registry, e.g. library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
}

function invalid(msg = 'invalid reference format'): BerthError {
  return new BerthError('ERR_INVALID_REFERENCE', msg);
}

/** Split "name[:tag][@digest]" into parts without normalising. */
function splitRaw(s: string): { name: string; tag?: string; digest?: string } {
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid();
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid();
  }
  return { name: rest, tag, digest };
}

/** Split a repository name into domain and path the way Docker does (no defaults applied to the path beyond library/). */
function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  let domain: string;
  let path: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

/**
 * Parse and normalise a reference ("busybox" → docker.io/library/busybox). Does not add a default
 * tag; see withDefaultTag.
 */
export function parseReference(input: string): Reference {
  if (typeof input !== 'string' || input.length === 0) throw invalid();
  if (ID_RE.test(input)) {
    throw invalid(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const { name, tag, digest } = splitRaw(input);
  if (name.length === 0) throw invalid();
  const { domain, path } = splitDomain(name);
  if (!DOMAIN_RE.test(domain)) throw invalid();
  if (!PATH_RE.test(path)) {
    if (PATH_RE.test(path.toLowerCase())) {
      throw invalid(`invalid reference format: repository name (${path}) must be lowercase`);
    }
    throw invalid();
  }
  if (domain.length + 1 + path.length > NAME_TOTAL_MAX) throw invalid('invalid reference format: repository name must not be more than 255 characters');
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function tryParseReference(input: string): Reference | undefined {
  try { return parseReference(input); } catch { return undefined; }
}

/** Adds "latest" when the reference has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** Fully qualified repository name, e.g. docker.io/library/busybox. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** Fully qualified string with tag and digest. */
export function formatReference(ref: Reference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Docker's familiar repository name: docker.io/library/busybox → busybox, docker.io/u/x → u/x. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) < 0) {
    return ref.path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return ref.path;
}

/** Familiar string with tag and digest, as Docker prints it ("busybox:latest"). */
export function familiarString(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The host to contact for a domain (docker.io is served by registry-1.docker.io). */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DEFAULT_REGISTRY_HOST : domain;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}
