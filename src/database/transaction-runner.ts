import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import {
  isConnectionError,
  isRetryableTransactionError,
  sqlState,
} from '../common/errors/pg-errors';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 200 };

/** Full jitter: a random delay up to an exponentially growing, capped ceiling. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export type RetryListener = (sqlState: string) => void;

/** The running unit of work, as seen by code called inside it. */
interface UnitOfWork {
  manager: EntityManager;
  /** Run once the unit has committed; dropped when it rolls back (or is retried). */
  afterCommit: (() => void)[];
  /** PostgreSQL's id of the transaction, once a statement has reported it (see XACT_ID_SQL). */
  xactId?: string;
}

/**
 * Select this (e.g. `RETURNING …, ${XACT_ID_SQL} AS xact_id`) in a statement of a unit of work
 * and hand the value to `TransactionRunner.noteTransactionId`: if the connection then dies
 * while COMMIT is in flight, the runner can still learn whether the transaction committed.
 */
export const XACT_ID_SQL = 'pg_current_xact_id()::text';

/**
 * The only code that opens a QueryRunner. A unit of work runs in one READ COMMITTED
 * transaction and receives an EntityManager bound to it, never the QueryRunner itself.
 *
 * - Retries: on 40001 (serialization failure) and 40P01 (deadlock) the *whole* unit is run
 *   again in a fresh transaction, after a jittered, capped backoff. Any other error, or the
 *   last retryable one, is re-thrown as it was (never a rollback error in its place).
 * - Nesting: a `run` inside a running unit joins the outer transaction (same manager), so a
 *   caller such as the idempotency layer can wrap a service call in one atomic unit.
 * - `afterCommit`: side effects that must only happen for committed work (metrics) wait for
 *   the outermost commit, and are dropped with a rolled-back or retried attempt.
 * - A lost COMMIT reply: when the connection dies while COMMIT is in flight, the outcome is
 *   unknown to the client. If the unit noted its transaction id, the runner asks PostgreSQL
 *   on another connection (`pg_xact_status`): committed means success, as if the reply had
 *   arrived; otherwise the connection error stands (nothing changed, 503 for the client).
 */
@Injectable()
export class TransactionRunner {
  private readonly logger = new Logger(TransactionRunner.name);
  private readonly current = new AsyncLocalStorage<UnitOfWork>();
  private readonly retryListeners: RetryListener[] = [];

  private policy: RetryPolicy = DEFAULT_RETRY;

  constructor(private readonly dataSource: DataSource) {}

  /** A runner outside dependency injection with its own retry policy (tests, tools). */
  static withRetryPolicy(dataSource: DataSource, policy: RetryPolicy): TransactionRunner {
    const runner = new TransactionRunner(dataSource);
    runner.policy = policy;
    return runner;
  }

  /** Called with the SQLSTATE each time a unit of work is retried (metrics hook). */
  onRetry(listener: RetryListener): void {
    this.retryListeners.push(listener);
  }

  async run<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: { isolationLevel?: IsolationLevel } = {},
  ): Promise<T> {
    const outer = this.current.getStore();
    if (outer) return work(outer.manager);

    for (let attempt = 1; ; attempt++) {
      const queryRunner = this.dataSource.createQueryRunner();
      try {
        await queryRunner.connect();
        await queryRunner.startTransaction(options.isolationLevel);
        const unit: UnitOfWork = { manager: queryRunner.manager, afterCommit: [] };
        const result = await this.current.run(unit, () => work(unit.manager));
        try {
          await queryRunner.commitTransaction();
        } catch (commitError) {
          if (!(await this.committedDespite(commitError, unit.xactId))) throw commitError;
        }
        this.runAfterCommit(unit);
        return result;
      } catch (error) {
        if (queryRunner.isTransactionActive) {
          await queryRunner.rollbackTransaction().catch((rollbackError: unknown) => {
            this.logger.warn(`rollback failed: ${String(rollbackError)}`);
          });
        }
        if (attempt >= this.policy.maxAttempts || !isRetryableTransactionError(error)) {
          throw error;
        }
        const state = sqlState(error) ?? 'unknown';
        for (const listener of this.retryListeners) listener(state);
        await sleep(backoffDelay(attempt, this.policy));
      } finally {
        await queryRunner.release();
      }
    }
  }

  /** Records the id of the running unit's transaction (a value selected as XACT_ID_SQL). */
  noteTransactionId(xactId: unknown): void {
    const unit = this.current.getStore();
    if (unit && typeof xactId === 'string') unit.xactId = xactId;
  }

  /**
   * After COMMIT failed on a dead connection: did the transaction commit anyway (the reply
   * was lost, not the commit)? Asked on another connection, waiting briefly while the
   * transaction is still in progress. Unknown (no id noted, database unreachable) is false.
   */
  private async committedDespite(error: unknown, xactId: string | undefined): Promise<boolean> {
    if (xactId === undefined || !isConnectionError(error)) return false;
    for (let check = 1; check <= 20; check++) {
      let status: string | undefined;
      try {
        const rows: { status: string | null }[] = await this.dataSource.query(
          'SELECT pg_xact_status($1::xid8) AS status',
          [xactId],
        );
        status = rows[0]?.status ?? undefined;
      } catch (checkError) {
        this.logger.warn(
          `COMMIT of transaction ${xactId} failed (${String(error)}); its outcome could not be checked: ${String(checkError)}`,
        );
        return false;
      }
      if (status !== 'in progress') {
        this.logger.warn(
          `COMMIT of transaction ${xactId} failed (${String(error)}); PostgreSQL reports it ${status ?? 'unknown'}`,
        );
        return status === 'committed';
      }
      await sleep(50);
    }
    return false;
  }

  /**
   * Defers `callback` until the running unit of work has committed; it never runs if the unit
   * rolls back, and runs once even if the unit was retried. Outside a unit it runs at once
   * (there is nothing to wait for). The callback must be cheap; a throw is logged, not raised.
   */
  afterCommit(callback: () => void): void {
    const unit = this.current.getStore();
    if (unit) unit.afterCommit.push(callback);
    else this.runAfterCommit({ afterCommit: [callback] });
  }

  private runAfterCommit(unit: Pick<UnitOfWork, 'afterCommit'>): void {
    for (const callback of unit.afterCommit) {
      try {
        callback();
      } catch (error) {
        this.logger.warn(`after-commit callback failed: ${String(error)}`);
      }
    }
  }
}
