import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryFailedError,
  ValueTransformer,
} from 'typeorm';
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
export const RETRY_POLICY = Symbol('RETRY_POLICY');

/** A statement sent as a named prepared statement: parsed and planned once per connection. */
export interface PreparedStatement {
  /** Unique per distinct SQL text. */
  name: string;
  text: string;
}

interface PgClient {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

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
const XACT_ID_ALIAS = '__xact_id';

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

  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(RETRY_POLICY) private readonly policy: RetryPolicy = DEFAULT_RETRY,
  ) {}

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

  /**
   * Runs a hot statement as a named prepared statement on the unit's connection: PostgreSQL
   * parses and plans it once per connection instead of on every call (planning costs more
   * than executing these short statements). Errors keep TypeORM's QueryFailedError shape.
   * Only for a manager handed out by `run`.
   */
  async queryPrepared<R>(
    manager: EntityManager,
    statement: PreparedStatement,
    values: unknown[],
  ): Promise<R[]> {
    const queryRunner = manager.queryRunner;
    if (!queryRunner || !queryRunner.isTransactionActive) {
      throw new Error('queryPrepared needs the manager of a running unit of work');
    }
    const client = (await queryRunner.connect()) as PgClient;
    try {
      return (await client.query<R>({ name: statement.name, text: statement.text, values })).rows;
    } catch (error) {
      throw new QueryFailedError(statement.text, values, error as Error);
    }
  }

  /**
   * Locks rows with `pessimistic_write` (SELECT … FOR UPDATE) in ONE query ordered by key.
   * Every movement takes its locks in the same global order, so A→B and B→A running at once
   * queue behind each other instead of deadlocking. Rows that do not exist are simply absent.
   * The statement is built once per entity from TypeORM's metadata and sent prepared; rows are
   * hydrated through the columns' transformers, as TypeORM would.
   */
  async lockForUpdate<T extends ObjectLiteral>(
    manager: EntityManager,
    entity: EntityTarget<T>,
    keyProperty: keyof T & string,
    keys: readonly string[],
  ): Promise<T[]> {
    const lock = this.lockStatement(manager, entity, keyProperty);
    const rows = await this.queryPrepared<Record<string, unknown>>(manager, lock.statement, [
      [...new Set(keys)],
    ]);
    if (rows.length > 0) this.noteTransactionId(rows[0][XACT_ID_ALIAS]);
    return rows.map((row) => {
      const target = lock.create();
      for (const column of lock.columns) {
        const raw = row[column.databaseName];
        target[column.propertyName] = column.transformer ? column.transformer.from(raw) : raw;
      }
      return target as T;
    });
  }

  private readonly lockStatements = new Map<
    EntityTarget<ObjectLiteral>,
    Map<string, LockStatement>
  >();

  private lockStatement(
    manager: EntityManager,
    entity: EntityTarget<ObjectLiteral>,
    keyProperty: string,
  ): LockStatement {
    const byKey = this.lockStatements.get(entity) ?? new Map<string, LockStatement>();
    this.lockStatements.set(entity, byKey);
    const cached = byKey.get(keyProperty);
    if (cached) return cached;
    const metadata = manager.connection.getMetadata(entity);
    const key = metadata.findColumnWithPropertyName(keyProperty);
    if (!key) throw new Error(`${metadata.name} has no column ${keyProperty}`);
    const columns = metadata.columns.map((c) => ({
      databaseName: c.databaseName,
      propertyName: c.propertyName,
      transformer: Array.isArray(c.transformer) ? undefined : (c.transformer as ValueTransformer),
    }));
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const built: LockStatement = {
      statement: {
        name: `lock_${metadata.tableName}_${key.databaseName}`,
        text:
          `SELECT ${columns.map((c) => quote(c.databaseName)).join(', ')},` +
          ` ${XACT_ID_SQL} AS "${XACT_ID_ALIAS}"` +
          ` FROM ${quote(metadata.tableName)} WHERE ${quote(key.databaseName)} = ANY($1)` +
          ` ORDER BY ${quote(key.databaseName)} FOR UPDATE`,
      },
      columns,
      create: () => metadata.create() as Record<string, unknown>,
    };
    byKey.set(keyProperty, built);
    return built;
  }
}

interface LockStatement {
  statement: PreparedStatement;
  columns: { databaseName: string; propertyName: string; transformer?: ValueTransformer }[];
  create(): Record<string, unknown>;
}
