import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import { DataSource } from 'typeorm';

/** One ledger row as the statement reads it (raw driver values: BIGINT arrives as a string). */
export type StatementRow = [
  entryId: string,
  transactionId: string,
  accountId: string,
  type: string,
  amount: string,
  balanceAfter: string,
  timestamp: string,
  counterpartyAccountId: string | null,
  paymentId: string | null,
];

export interface StatementAccount {
  accountId: string;
  currency: string;
  createdAt: number;
}

export interface RangeTotals {
  entryCount: string;
  totalCredits: string;
  totalDebits: string;
}

/**
 * Rows fetched per round trip. Large enough that the round trips cost little next to the
 * rows, small enough that a batch (and its formatted text) stays far below a megabyte.
 */
const BATCH_ROWS = 2000;

/**
 * A client that stops reading must not hold a connection (and a snapshot) forever: the server
 * ends the session after this long without a FETCH, and the stream fails.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

const ENTRY_COLUMNS = `transaction_id::text, movement_id::text, account_id, operation, amount::text,
  balance_after::text, timestamp::text, counterparty_account_id, payment_ref`;

/**
 * Owns the statement's SQL. Everything a statement shows is read inside one READ ONLY
 * REPEATABLE READ transaction on a connection of its own, so the header, the entries and the
 * totals all come from one snapshot however much money moves meanwhile.
 *
 * The connection is taken from the pool directly rather than through the TransactionRunner:
 * the transaction outlives the request handler (it ends when the last row has been streamed,
 * or when the client goes away) and uses a server-side cursor, which a unit of work does not.
 */
@Injectable()
export class StatementsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async openSnapshot(): Promise<StatementSnapshot> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const client = await pool.connect();
    const snapshot = new StatementSnapshot(client);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(
        `SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_MS}`,
      );
    } catch (error) {
      await snapshot.close(error);
      throw error;
    }
    return snapshot;
  }
}

/** A read-only snapshot of the ledger on one checked-out connection. Close it exactly once. */
export class StatementSnapshot {
  private closing?: Promise<void>;
  private broken?: unknown;
  private cursor?: Cursor<StatementRow>;
  private readonly onError = (error: unknown) => {
    // A session ended by the server while no query runs (idle-in-transaction timeout, a
    // terminated backend) is reported here; without a listener it would crash the process.
    this.broken = error;
  };

  constructor(private readonly client: PoolClient) {
    client.on('error', this.onError);
  }

  async account(accountId: string): Promise<StatementAccount | undefined> {
    const { rows } = await this.client.query<{ currency: string; created_at: string }>(
      'SELECT currency, created_at::text FROM accounts WHERE account_id = $1',
      [accountId],
    );
    const row = rows[0];
    return row && { accountId, currency: row.currency, createdAt: Number(row.created_at) };
  }

  /**
   * The balance after the last entry stamped before `before` (0 if none): the stored
   * balance_after, one backward probe of (account_id, timestamp, transaction_id).
   */
  async balanceBefore(accountId: string, before: number): Promise<string> {
    const { rows } = await this.client.query<{ balance_after: string }>(
      `SELECT balance_after::text FROM ledger_transactions
        WHERE account_id = $1 AND timestamp < $2
        ORDER BY timestamp DESC, transaction_id DESC LIMIT 1`,
      [accountId, before],
    );
    return rows[0]?.balance_after ?? '0';
  }

  /** Count and sums of the entries with from ≤ timestamp < to (a scan of that range). */
  async totals(accountId: string, from: number, to: number): Promise<RangeTotals> {
    const { rows } = await this.client.query<{ n: string; credits: string; debits: string }>(
      `SELECT count(*)::text AS n,
              COALESCE(sum(amount) FILTER (WHERE amount > 0), 0)::text AS credits,
              COALESCE(-sum(amount) FILTER (WHERE amount < 0), 0)::text AS debits
         FROM ledger_transactions
        WHERE account_id = $1 AND timestamp >= $2 AND timestamp < $3`,
      [accountId, from, to],
    );
    const row = rows[0];
    return { entryCount: row.n, totalCredits: row.credits, totalDebits: row.debits };
  }

  /**
   * The entries with from ≤ timestamp < to in history order, batch by batch from a
   * server-side cursor: only one batch is in memory, and the next is fetched only when the
   * consumer asks for it (backpressure reaches PostgreSQL).
   */
  async *entries(accountId: string, from: number, to: number): AsyncGenerator<StatementRow[]> {
    this.cursor = this.client.query(
      new Cursor<StatementRow>(
        `SELECT ${ENTRY_COLUMNS} FROM ledger_transactions
          WHERE account_id = $1 AND timestamp >= $2 AND timestamp < $3
          ORDER BY timestamp, transaction_id`,
        [accountId, from, to],
        { rowMode: 'array' },
      ),
    );
    for (;;) {
      const rows = await this.cursor.read(BATCH_ROWS);
      if (rows.length === 0) return;
      yield rows;
    }
  }

  /**
   * Ends the transaction and gives the connection back, or discards it when it failed (then
   * the pool opens a fresh one). Safe to call more than once and concurrently.
   */
  close(error?: unknown): Promise<void> {
    this.closing ??= this.finish(error);
    return this.closing;
  }

  private async finish(error?: unknown): Promise<void> {
    let failure = error ?? this.broken;
    if (failure === undefined) {
      try {
        await this.cursor?.close();
        // Read only: COMMIT and ROLLBACK are the same; ROLLBACK also clears an aborted one.
        await this.client.query('ROLLBACK');
      } catch (closeError) {
        failure = closeError;
      }
    }
    this.client.removeListener('error', this.onError);
    this.client.release(failure === undefined ? undefined : toError(failure));
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
