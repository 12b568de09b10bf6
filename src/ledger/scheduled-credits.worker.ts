import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { RepeatingTask } from '../common/repeating-task';
import { AppConfig } from '../config/app-config';
import { LedgerEngine } from './engine/ledger-engine';

/** Accounts with due credits settled per run at most (one settle command, one batch). */
export const WORKER_BATCH_SIZE = 100;
/** Runs per tick at most, so one tick cannot run forever on a huge backlog. */
const MAX_RUNS_PER_TICK = 20;
const INTERVAL_NAME = 'scheduled-credits';

/**
 * Books due scheduled credits in the background, so they land even when nobody touches the
 * account. It only finds the accounts with something due and submits a `settle` command for
 * them: the ledger engine books what is due on every account it locks, under the same row
 * locks and in the same order as every movement, so it never deadlocks with them, and a credit
 * is booked exactly once however many instances run (re-read under the lock).
 *
 * Every CASHBACK_WORKER_INTERVAL_MS (an interval of @nestjs/schedule); a tick that finds the
 * previous one still running is skipped, so runs never overlap. Failures are logged and
 * retried on the next tick.
 */
@Injectable()
export class ScheduledCreditsWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ScheduledCreditsWorker.name);
  private readonly task: RepeatingTask;
  private stopping = false;

  constructor(
    private readonly engine: LedgerEngine,
    scheduler: SchedulerRegistry,
    config: AppConfig,
  ) {
    this.task = new RepeatingTask(
      scheduler,
      INTERVAL_NAME,
      config.get('CASHBACK_WORKER_INTERVAL_MS'),
      () => this.tick(),
      () => undefined, // tick logs its own failures
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** Stops ticking and waits for a run in progress, before the engine and the pool close. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
  }

  private async tick(): Promise<void> {
    try {
      for (let run = 0; run < MAX_RUNS_PER_TICK && !this.stopping; run++) {
        if ((await this.runOnce()).accounts === 0) break;
      }
    } catch (error) {
      this.logger.error(`scheduled credits run failed: ${String(error)}`);
    }
  }

  /**
   * One run: settles the accounts of the oldest due credits and of the holds whose expiry has
   * come (nobody touched them), in one batch. Returns how many accounts had something due.
   * Public so tests can drive several workers into a race.
   */
  async runOnce(): Promise<{ accounts: number }> {
    const accountIds = await this.engine.accountsWithSomethingDue(WORKER_BATCH_SIZE);
    if (accountIds.length > 0) await this.engine.settle(accountIds);
    return { accounts: accountIds.length };
  }
}
