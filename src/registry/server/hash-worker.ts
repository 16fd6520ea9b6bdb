// The worker side of Hasher: running hash states by handle.
import { parentPort } from 'node:worker_threads';
import { createHash, type Hash } from 'node:crypto';

export type HashRequest =
  | { op: 'new'; id: number; alg: string }
  | { op: 'update'; id: number; buf: Uint8Array; seq: number }
  | { op: 'copy'; id: number; from: number }
  | { op: 'digest'; id: number; seq: number }
  | { op: 'free'; id: number };
export interface HashReply { seq: number; hex?: string; error?: string }

const states = new Map<number, Hash>();
const unknown = 'unknown hash handle';

parentPort?.on('message', (m: HashRequest) => {
  switch (m.op) {
    case 'new': states.set(m.id, createHash(m.alg)); break;
    case 'update':
      // An unknown handle (its state died with an earlier worker) is not an error here: the
      // upload goes on, and its digest is taken from the file at the end.
      states.get(m.id)?.update(m.buf);
      parentPort!.postMessage({ seq: m.seq } satisfies HashReply);
      break;
    case 'copy': { const h = states.get(m.from); if (h) states.set(m.id, h.copy()); break; }
    case 'digest': {
      const h = states.get(m.id);
      parentPort!.postMessage(h ? { seq: m.seq, hex: h.copy().digest('hex') } : { seq: m.seq, error: unknown } satisfies HashReply);
      break;
    }
    case 'free': states.delete(m.id); break;
  }
});
