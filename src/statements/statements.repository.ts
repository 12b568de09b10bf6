import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';

/**
 * An entry as the JSON formats write it: its LedgerEntry object as JSON text, rendered by
 * PostgreSQL, and its amount (for the totals).
 */
export type JsonEntryRow = [json: string, amount: string];

/**
 * An entry as the CSV format writes it: every column up to counterpartyAccountId, rendered
 * and joined by PostgreSQL, then the paymentId (free text, quoted by the CSV writer).
 */
export type CsvEntryRow = [
  columns: string,
  paymentId: string | null,
  reversedTransactionId: string,
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
const BATCH_ROWS = 1000;

/**
 * A client that stops reading must not hold a connection (and a snapshot) forever: the server
 * ends the session after this long without a FETCH, and the stream fails.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/** pg_stat_activity.application_name of a connection while it serves a statement. */
export const STATEMENT_APPLICATION_NAME = 'banking-ledger-api/statement';

/**
 * The entry's LedgerEntry as JSON text. Every text value goes through to_json() (quotes,
 * backslashes, control characters escaped); the rest are BIGINT and UUID values, whose text
 * is a valid JSON number or string body as it is. Rendering in PostgreSQL halves the service's CPU per entry (one text
 * column to parse instead of nine, no object per row), and the service is the bottleneck.
 */
const JSON_ENTRY = `'{"entryId":"' || l.transaction_id || '","transactionId":"' || l.movement_id
  || '","accountId":' || to_json(l.account_id)::text || ',"type":' || to_json(l.operation)::text
  || ',"amount":' || l.amount || ',"balanceAfter":' || l.balance_after
  || ',"timestamp":' || l.timestamp
  || ',"counterpartyAccountId":' || COALESCE(to_json(l.counterparty_account_id)::text, 'null')
  || ',"paymentId":' || COALESCE(to_json(l.payment_ref)::text, 'null')
  || ',"reversedTransactionId":' || COALESCE('"' || l.reversed_transaction_id || '"', 'null')
  || '}'`;

/**
 * The CSV columns entryId … counterpartyAccountId, joined by commas. None of them can need
 * quoting or a formula guard: ids are digits and UUIDs, types are enum words, money and
 * times are integers (a leading minus is a number, which spreadsheets do not run), and
 * account ids match the CHECKed pattern `^[A-Za-z0-9][A-Za-z0-9_.-]*$`. The one free-text
 * column, payment_ref, is returned apart for the CSV writer.
 */
const CSV_COLUMNS_UP_TO_COUNTERPARTY = `concat_ws(',', l.transaction_id, l.movement_id, l.timestamp,
  l.operation, l.amount, l.balance_after, COALESCE(l.counterparty_account_id, ''))`;

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
      // Names the session in pg_stat_activity while the statement runs (reset at its end).
      await client.query(`SET LOCAL application_name = '${STATEMENT_APPLICATION_NAME}'`);
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
  private failureListener?: (error: Error) => void;
  private readonly onError = (error: unknown) => {
    // A session ended by the server while no query runs (idle-in-transaction timeout, a
    // terminated backend) is reported here; without a listener it would crash the process.
    this.broken = error;
    this.failureListener?.(toError(error));
  };

  constructor(private readonly client: PoolClient) {
    client.on('error', this.onError);
  }

  /**
   * Called when the connection fails while no query runs, e.g. PostgreSQL ended the session
   * of a client that stopped reading: the statement must fail then, not wait for the client.
   */
  onFailure(listener: (error: Error) => void): void {
    this.failureListener = listener;
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

  /** The entries of the range in history order, as JSON text (see `entries`). */
  jsonEntries(accountId: string, from: number, to: number): AsyncGenerator<JsonEntryRow[]> {
    return this.entries<JsonEntryRow>(`${JSON_ENTRY}, l.amount::text`, accountId, from, to);
  }

  /**
   * The entries of the range in history order, as CSV text but paymentId, and the
   * reversedTransactionId (a UUID or empty: never needs quoting).
   */
  csvEntries(accountId: string, from: number, to: number): AsyncGenerator<CsvEntryRow[]> {
    return this.entries<CsvEntryRow>(
      `${CSV_COLUMNS_UP_TO_COUNTERPARTY}, l.payment_ref, COALESCE(l.reversed_transaction_id::text, '')`,
      accountId,
      from,
      to,
    );
  }

  /**
   * The entries with from ≤ timestamp < to in history order, batch by batch from a
   * server-side cursor: only one batch is in memory, and the next is fetched only when the
   * consumer asks for it (backpressure reaches PostgreSQL).
   *
   * A SQL cursor (DECLARE, then one FETCH per batch) rather than pg-cursor's protocol-level
   * portal: each FETCH is a statement of its own, so statement_timeout and the driver's
   * query_timeout bound every batch, not the whole export. A portal is one statement until
   * its Sync, which the 15 s statement_timeout cancels mid-export, and pg's query_timeout
   * timer is never cleared for a pg-cursor (it errors every cursor after 20 s).
   */
  private async *entries<Row extends unknown[]>(
    columns: string,
    accountId: string,
    from: number,
    to: number,
  ): AsyncGenerator<Row[]> {
    await this.client.query(
      `DECLARE statement_entries NO SCROLL CURSOR FOR
         SELECT ${columns} FROM ledger_transactions l
          WHERE l.account_id = $1 AND l.timestamp >= $2 AND l.timestamp < $3
          ORDER BY l.timestamp, l.transaction_id`,
      [accountId, from, to],
    );
    for (;;) {
      const { rows } = await this.client.query<Row>({
        text: `FETCH ${BATCH_ROWS} FROM statement_entries`,
        rowMode: 'array',
      });
      if (rows.length > 0) yield rows;
      if (rows.length < BATCH_ROWS) return;
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
        // Read only: COMMIT and ROLLBACK are the same; ROLLBACK also closes the cursor and
        // clears an aborted transaction.
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
