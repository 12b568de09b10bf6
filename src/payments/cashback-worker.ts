import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { Clock } from '../common/clock/clock';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { CashbackSettler } from './cashback-settler';

/** Due cashback rows looked at per batch (their distinct accounts are settled one by one). */
export const WORKER_BATCH_SIZE = 100;
/** Batches per tick at most, so one tick cannot run forever on a huge backlog. */
const MAX_BATCHES_PER_TICK = 20;

export interface WorkerRun {
  /** Cashbacks settled (credited or completed at 0). */
  settled: number;
  /** Accounts skipped because another transaction held their lock (it settles them). */
  skipped: number;
  /** Accounts whose settlement failed (logged). */
  failed: number;
  /** Accounts found with due cashbacks. */
  accounts: number;
}

/**
 * Settles due cashbacks in the background, so they are credited even when nobody touches the
 * account. Every instance of the service runs one; they share the work without crediting
 * twice:
 *
 * - each account is settled in its own short transaction that takes the ACCOUNT row lock first
 *   with `FOR UPDATE SKIP LOCKED`, the same row and order every movement locks, so there is no
 *   deadlock, and a busy account is skipped: whoever holds its lock settles it anyway;
 * - exactly-once comes from CashbackSettler re-reading `settled_at IS NULL` under that lock.
 *
 * Runs never overlap: the next tick is scheduled only when the previous one has finished.
 * Failures are logged and retried on the next tick; they never reach the process.
 */
@Injectable()
export class CashbackWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CashbackWorker.name);
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly settler: CashbackSettler,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.intervalMs = config.get('CASHBACK_WORKER_INTERVAL_MS');
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Stops scheduling and waits for a run in progress, before the connection pool closes. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    // The HTTP server keeps the process alive; the worker alone never should.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_TICK && !this.stopping; batch++) {
        const run = await this.runOnce();
        // Stop when the backlog is drained, or when all that is left is locked by others.
        if (run.accounts === 0 || run.settled === 0) break;
      }
    } catch (error) {
      this.logger.error(`cashback worker run failed: ${describe(error)}`);
    }
  }

  /**
   * One batch: the accounts of the oldest due cashbacks, each settled in its own transaction.
   * Public so tests can drive several workers into a race deterministically.
   */
  async runOnce(): Promise<WorkerRun> {
    const now = this.clock.now();
    // Served by the partial index on pending cashbacks' due_at.
    const rows = await this.dataSource.query<{ account_id: string }[]>(
      `SELECT DISTINCT account_id FROM (
         SELECT account_id FROM cashbacks
          WHERE settled_at IS NULL AND due_at <= $1::bigint
          ORDER BY due_at
          LIMIT $2
       ) AS due`,
      [now, WORKER_BATCH_SIZE],
    );
    const run: WorkerRun = { settled: 0, skipped: 0, failed: 0, accounts: rows.length };
    for (const { account_id: accountId } of rows) {
      if (this.stopping) break;
      try {
        const settled = await this.settleAccount(accountId);
        if (settled === null) run.skipped += 1;
        else run.settled += settled;
      } catch (error) {
        run.failed += 1;
        this.logger.error(`settling cashbacks of account ${accountId} failed: ${describe(error)}`);
      }
    }
    return run;
  }

  /** Settles one account's due cashbacks; null when another transaction holds the account. */
  private settleAccount(accountId: string): Promise<number | null> {
    return this.transactions.run(async (manager) => {
      const account = await manager
        .createQueryBuilder(Account, 'a')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where('a.account_id = :accountId', { accountId })
        .getOne();
      if (!account) return null;
      // Like PostingsService.lock: never settle "before" the account's newest entry.
      const now = Math.max(this.clock.now(), account.lastEntryAt);
      return this.settler.settle(manager, new Map([[accountId, account]]), now);
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
