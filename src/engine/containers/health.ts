// HEALTHCHECK: probes run as execs through the runtime on a timer while the container runs; the
// result lands in State.Health (inspect) and health_status events.
import { randomBytes } from 'node:crypto';
import { log } from '../../util/log.js';
import { execLine } from '../events.js';
import type { ContainerRecord } from './types.js';
import type { ContainerService } from './service.js';

const NS = 1_000_000;
const DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3 };
const MAX_OUTPUT = 4096;

export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly startedAt = Date.now();

  constructor(private readonly svc: ContainerService, private readonly c: ContainerRecord) {}

  static wanted(c: ContainerRecord): boolean {
    const t = c.Config.Healthcheck?.Test;
    return !!t && t.length > 0 && t[0] !== 'NONE';
  }

  start(): void { this.schedule(); }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private ms(v: number | undefined, def: number): number { return v && v > 0 ? Math.max(1, Math.round(v / NS)) : def; }

  private schedule(): void {
    if (this.stopped) return;
    const h = this.c.Config.Healthcheck!;
    const inStart = Date.now() - this.startedAt < this.ms(h.StartPeriod, 0);
    const delay = inStart && h.StartInterval ? this.ms(h.StartInterval, DEFAULTS.interval) : this.ms(h.Interval, DEFAULTS.interval);
    this.timer = setTimeout(() => { void this.probe().finally(() => this.schedule()); }, delay);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const c = this.c;
    if (this.stopped || c.State.Status !== 'running') return;
    const h = c.Config.Healthcheck!;
    const test = h.Test!;
    const args = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test[0] === 'CMD' ? test.slice(1) : test;
    const start = new Date();
    let exitCode = -1;
    let output = '';
    // Each probe is an exec, and Docker's event stream shows it as one.
    const execID = randomBytes(32).toString('hex');
    this.svc.publish(c, `exec_create: ${execLine(args)}`, { execID });
    try {
      const s = await this.svc.runtime.exec(c.Id, { args }, { tty: false, stdin: false, detach: false });
      this.svc.publish(c, `exec_start: ${execLine(args)}`, { execID });
      void s.exit.then((st) => this.svc.publish(c, 'exec_die', { execID, exitCode: String(st.exitCode) }), () => {});
      const take = (d: Buffer) => { if (output.length < MAX_OUTPUT) output += d.toString('utf8'); };
      s.stdout.on('data', take);
      s.stderr.on('data', take);
      const timeout = this.ms(h.Timeout, DEFAULTS.timeout);
      let t: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((r) => { t = setTimeout(() => r(undefined), timeout); });
      const st = await Promise.race([s.exit, timedOut]);
      clearTimeout(t);
      if (st) exitCode = st.exitCode;
      else output = `Health check exceeded timeout (${timeout}ms)`;
    } catch (e) {
      output = (e as Error).message;
    }
    if (this.stopped || c.State.Status !== 'running' || !c.State.Health) return;
    const health = c.State.Health;
    health.Log = [...health.Log, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output.slice(0, MAX_OUTPUT) }].slice(-5);
    const before = health.Status;
    const inStart = Date.now() - this.startedAt < this.ms(h.StartPeriod, 0);
    if (exitCode === 0) {
      health.FailingStreak = 0;
      health.Status = 'healthy';
    } else if (!inStart) {
      health.FailingStreak++;
      if (health.FailingStreak >= (h.Retries && h.Retries > 0 ? h.Retries : DEFAULTS.retries)) health.Status = 'unhealthy';
    }
    if (health.Status !== before) this.svc.publish(c, `health_status: ${health.Status}`);
    await this.svc.saveState(c).catch((e) => log.warn('saving health state failed', { err: String(e) }));
  }
}
