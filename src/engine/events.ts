// In-memory event bus: every engine area (images now, containers later) publishes here; /events
// subscribes. A bounded history serves `since`.
import type { Filters } from '../api/query.js';
import { familiarName, tryParseReference } from '../oci/reference.js';

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // Legacy fields still read by docker-compose v1 / docker-py.
  status?: string;
  id?: string;
  from?: string;
}

export type EventListener = (e: EngineEvent) => void;

/** Events kept for `since` replays: Docker keeps the last 256 (moby's eventsLimit). */
const HISTORY = 256;

export class EventBus {
  private listeners = new Set<EventListener>();
  private history: EngineEvent[] = [];

  publish(type: string, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const nowMs = Date.now();
    const nano = BigInt(nowMs) * 1_000_000n + BigInt(process.hrtime.bigint() % 1_000_000n);
    const e: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Math.floor(nowMs / 1000),
      timeNano: Number(nano),
    };
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (type === 'container' && attributes.image) e.from = attributes.image;
    }
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of this.listeners) {
      try { l(e); } catch { /* a broken subscriber must not break publishers */ }
    }
    return e;
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }

  /** Events already published with timeNano in [sinceNano, untilNano]. */
  since(sinceNano: bigint, untilNano?: bigint): EngineEvent[] {
    return this.history.filter((e) => BigInt(e.timeNano) >= sinceNano && (untilNano === undefined || BigInt(e.timeNano) <= untilNano));
  }
}

/** The command as Docker's exec events name it: "exec_create: sh -c x" (entrypoint, a space, the args). */
export function execLine(cmd: readonly string[]): string {
  return `${cmd[0] ?? ''} ${cmd.slice(1).join(' ')}`;
}

/** Docker's /events filters: type, event/action, image, container, network, label. */
export function matchEvent(e: EngineEvent, f: Filters): boolean {
  const has = (k: string) => f.has(k) && f.get(k)!.size > 0;
  if (has('type') && !f.get('type')!.has(e.Type)) return false;
  if (has('event')) {
    const ev = f.get('event')!;
    const base = e.Action.split(':')[0]!;
    if (!ev.has(e.Action) && !ev.has(base)) return false;
  }
  if (has('image')) {
    // As moby: the actor's ID or its image's name (an image event's own name), exactly, with or
    // without the tag; no prefixes, and a container's own name is not an image.
    const want = f.get('image')!;
    const name = e.Actor.Attributes[e.Type === 'image' ? 'name' : 'image'] ?? '';
    const stripTag = (s: string) => { const r = tryParseReference(s); return r ? familiarName(r) : s; };
    if (![e.Actor.ID, name, stripTag(e.Actor.ID), stripTag(name)].some((c) => c !== '' && want.has(c))) return false;
  }
  if (has('container')) {
    if (e.Type !== 'container') return false;
    const want = f.get('container')!;
    // moby's FuzzyMatch: the ID or the name, each in full or by a prefix.
    if (![...want].some((w) => e.Actor.ID.startsWith(w) || (e.Actor.Attributes.name ?? '').startsWith(w))) return false;
  }
  if (has('network')) {
    // As moby: the network's ID or name, in full or as a prefix (a network event's Actor is the network).
    const want = [...f.get('network')!];
    const cand = [e.Actor.ID, e.Actor.Attributes.name].filter((x): x is string => !!x);
    if (!want.some((w) => cand.some((c) => c.startsWith(w)))) return false;
  }
  if (has('label')) {
    for (const v of f.get('label')!) {
      const i = v.indexOf('=');
      const k = i < 0 ? v : v.slice(0, i);
      if (!(k in e.Actor.Attributes)) return false;
      if (i >= 0 && e.Actor.Attributes[k] !== v.slice(i + 1)) return false;
    }
  }
  return true;
}
