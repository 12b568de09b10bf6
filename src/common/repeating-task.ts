import type { SchedulerRegistry } from '@nestjs/schedule';

/**
 * A background job's clock: runs `tick` every `intervalMs` as a named interval of
 * @nestjs/schedule. Runs never overlap (a tick that comes while one runs is skipped); a failed
 * run goes to `onError` and the next tick tries again; the timer never keeps the process
 * alive on its own. `stop()` starts no new run and waits for the one under way, so a module
 * can stop it in its destroy hook, before the pool it uses closes.
 */
export class RepeatingTask {
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    const interval = setInterval(() => {
      if (this.running || this.stopped) return;
      this.running = this.tick()
        .then(() => undefined, this.onError)
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    interval.unref();
    this.scheduler.addInterval(this.name, interval);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
    await this.running;
  }
}
