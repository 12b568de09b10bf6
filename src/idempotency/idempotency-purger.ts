import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Clock } from '../common/clock/clock';
import { TransactionRunner } from '../database/transaction-runner';
import { IdempotencyRepository } from './idempotency.repository';

export const PURGE_INTERVAL_MS = 60_000;
export const PURGE_BATCH_SIZE = 1000;
/** The job's name in @nestjs/schedule's SchedulerRegistry. */
export const PURGE_JOB = 'idempotency-purge';

/**
 * Background job deleting expired Idempotency-Keys, in batches of short statements so it
 * never holds many row locks or one long transaction.
 *
 * Scheduled by @nestjs/schedule (`@Interval`). Runs never overlap: a tick that finds a run
 * still under way is skipped, and manual `purgeExpired` calls queue behind it. On shutdown
 * (`onModuleDestroy`, before the schedule is cleared and before the pool closes) no new run
 * starts, a run under way stops after its current batch, and shutdown waits for it.
 */
@Injectable()
export class IdempotencyPurger implements OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyPurger.name);
  private stopped = false;
  private scheduledRunActive = false;
  /** The latest run, settled or not: runs chain behind it, shutdown waits for it. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly store: IdempotencyRepository,
    private readonly clock: Clock,
  ) {}

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.tail;
  }

  /** One scheduled run; errors are logged, never fatal. */
  @Interval(PURGE_JOB, PURGE_INTERVAL_MS)
  async purgeOnSchedule(): Promise<void> {
    if (this.stopped || this.scheduledRunActive) return;
    this.scheduledRunActive = true;
    try {
      const deleted = await this.purgeExpired();
      if (deleted > 0) this.logger.log(`purged ${deleted} expired idempotency keys`);
    } catch (error) {
      this.logger.warn(`purging expired idempotency keys failed: ${String(error)}`);
    } finally {
      this.scheduledRunActive = false;
    }
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
}
