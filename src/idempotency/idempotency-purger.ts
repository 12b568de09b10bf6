import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { TransactionRunner } from '../database/transaction-runner';
import { IdempotencyRepository } from './idempotency.repository';

export const PURGE_INTERVAL_MS = 60_000;
export const PURGE_BATCH_SIZE = 1000;

/**
 * Background job deleting expired Idempotency-Keys, in batches of short statements so it
 * never holds many row locks or one long transaction. Runs are serialized (the next one is
 * scheduled only after the previous finished) and stop on shutdown, before the pool closes.
 */
@Injectable()
export class IdempotencyPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyPurger.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** The latest run, settled or not: runs chain behind it, shutdown waits for it. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly store: IdempotencyRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tail;
  }

  /**
   * Deletes every key expired by now (the clock when each batch starts) and returns how
   * many. Waits for a run already under way rather than overlapping it.
   */
  purgeExpired(batchSize = PURGE_BATCH_SIZE): Promise<number> {
    const run = this.tail.then(() => this.purgeAll(batchSize));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async purgeAll(batchSize: number): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.clock.now();
      const deleted = await this.transactions.run((manager) =>
        this.store.deleteExpired(manager, now, batchSize),
      );
      total += deleted;
      if (deleted < batchSize || this.stopped) return total;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.purgeExpired()
        .then((deleted) => {
          if (deleted > 0) this.logger.log(`purged ${deleted} expired idempotency keys`);
        })
        .catch((error: unknown) => {
          this.logger.warn(`purging expired idempotency keys failed: ${String(error)}`);
        })
        .finally(() => this.schedule());
    }, PURGE_INTERVAL_MS);
    this.timer.unref();
  }
}
