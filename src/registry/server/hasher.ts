// Upload digests computed on a worker thread. At disk speed, SHA-256 of the incoming bytes took
// about a third of the event loop that also reads every socket; beside it, on the other core, it
// no longer caps the upload rate. Hash states live in the worker, named by handle; one message
// port keeps order, so updates, copies and digests apply in the order they were sent.
import { Worker } from 'node:worker_threads';
import type { Algorithm } from '../../util/digest.js';
import type { HashRequest, HashReply } from './hash-worker.js';

export type HashHandle = number;

export class Hasher {
  private worker: Worker | undefined;
  private nextHandle = 1;
  private nextSeq = 1;
  private waiting = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();

  private post(m: HashRequest): void {
    if (!this.worker) {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url));
      // Idle, it must not keep a process (or a test run) alive.
      w.unref();
      w.on('message', (r: HashReply) => {
        const p = this.waiting.get(r.seq);
        if (!p) return;
        this.waiting.delete(r.seq);
        if (r.error !== undefined) p.reject(new Error(r.error));
        else p.resolve(r.hex ?? '');
      });
      const lost = (e: Error) => {
        if (this.worker !== w) return;
        // Its states are gone: digests fall back to hashing the file (RegistryStore.finishUpload).
        this.worker = undefined;
        for (const p of this.waiting.values()) p.reject(e);
        this.waiting.clear();
      };
      w.on('error', lost);
      w.on('exit', (code) => lost(new Error(`hash worker exited with code ${code}`)));
      this.worker = w;
    }
    this.worker.postMessage(m);
  }

  private ask(m: HashRequest & { seq: number }): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.set(m.seq, { resolve, reject });
      this.post(m);
      this.worker!.ref();
    }).finally(() => { if (!this.waiting.size) this.worker?.unref(); }) as Promise<string>;
  }

  create(alg: Algorithm): HashHandle {
    const id = this.nextHandle++;
    this.post({ op: 'new', id, alg });
    return id;
  }

  /** Resolves once hashed, so callers can bound the bytes queued for the worker. `buf` must not
   *  change afterwards; a SharedArrayBuffer-backed one crosses without a copy. */
  update(h: HashHandle, buf: Buffer): Promise<void> {
    return this.ask({ op: 'update', id: h, buf, seq: this.nextSeq++ }).then(() => undefined);
  }

  copy(h: HashHandle): HashHandle {
    const id = this.nextHandle++;
    this.post({ op: 'copy', id, from: h });
    return id;
  }

  /** Hex digest of what `h` has seen; `h` stays usable. */
  digest(h: HashHandle): Promise<string> {
    return this.ask({ op: 'digest', id: h, seq: this.nextSeq++ });
  }

  free(h: HashHandle): void {
    if (this.worker) this.post({ op: 'free', id: h });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.waiting.values()) p.reject(new Error('hash worker closed'));
    this.waiting.clear();
    if (w) await w.terminate();
  }
}
