// Validation of every client-supplied path part (rule R4): a value is checked against the spec's
// grammar before it becomes a path component, map key or URL.
import { isDigest } from '../../util/digest.js';
import { BerthError } from '../../errors/index.js';

// The distribution spec's <name> grammar, anchored. Components never start with '.', so '..' is impossible.
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// Upload session IDs are ours: 32 lowercase hex characters, nothing else.
const UUID_RE = /^[a-f0-9]{32}$/;
export const MAX_NAME_LENGTH = 255;

export function isRepoName(s: string): boolean {
  return s.length > 0 && s.length <= MAX_NAME_LENGTH && NAME_RE.test(s);
}
export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}
export function isUploadId(s: string): boolean {
  return UUID_RE.test(s);
}

export function assertRepoName(s: string): string {
  if (!isRepoName(s)) throw new BerthError('ERR_REG_NAME_INVALID', 'invalid repository name');
  return s;
}
export function assertTag(s: string): string {
  if (!isTag(s)) throw new BerthError('ERR_REG_MANIFEST_INVALID', 'invalid tag');
  return s;
}
export function assertBlobDigest(s: string): string {
  if (!isDigest(s)) throw new BerthError('ERR_INVALID_DIGEST', 'invalid digest');
  return s;
}

/** A manifest reference is a digest when it contains ':'; otherwise it must be a tag. */
export function parseReference(ref: string): { digest?: string; tag?: string } {
  if (ref.includes(':')) return { digest: assertBlobDigest(ref) };
  return { tag: assertTag(ref) };
}
