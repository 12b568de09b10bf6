import { Injectable } from '@nestjs/common';
import { pipeline, type Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { CopyOutput } from './copy-output';

/** The formats a statement's entries are written in. */
export type EntryFormat = 'json' | 'ndjson' | 'csv';

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
 * A client that stops reading between two of the statement's queries must not hold a
 * connection (and a snapshot) forever: the server ends the session after this long idle.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/**
 * The driver's read timeout of the COPY: the longest an export may take in all. The pool's
 * own (statement timeout + 5 s) would cut any export that lasts longer; a client that stops
 * reading is ended much sooner, by the stall timeout.
 */
const EXPORT_READ_TIMEOUT_MS = 6 * 3_600_000;

/** pg_stat_activity.application_name of a connection while it serves a statement. */
export const STATEMENT_APPLICATION_NAME = 'banking-ledger-api/statement';

/**
 * The entry's LedgerEntry as JSON text. Every text value goes through to_json() (quotes,
 * backslashes, control characters escaped); the rest are BIGINT and UUID values, whose text
 * is a valid JSON number or string body as it is. The text never holds a line break.
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
 * The CSV columns in the contract's order. The one free-text column, payment_ref, gets the
 * formula guard: a value starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`, so
 * that a spreadsheet shows it as text instead of running it. No other column can start so:
 * ids are digits and UUIDs, types are enum words, money and times are integers (a leading
 * minus is a number, which spreadsheets do not run), and account ids match the CHECKed
 * pattern `^[A-Za-z0-9][A-Za-z0-9_.-]*$`.
 */
const CSV_ENTRY_COLUMNS = `l.transaction_id, l.movement_id, l.timestamp, l.operation, l.amount,
  l.balance_after, l.counterparty_account_id,
  CASE WHEN l.payment_ref ~ '^[-=+@\\t\\r]' THEN '''' || l.payment_ref ELSE l.payment_ref END,
  l.reversed_transaction_id`;

/**
 * JSON text never holds these two bytes (to_json escapes every control character), so COPY's
 * CSV mode with them as delimiter and quote writes each JSON line exactly as rendered: no
 * quoting, no escaping.
 */
const VERBATIM_LINES = `FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02'`;

/**
 * What COPY selects per format, and how it writes it. csv is PostgreSQL's own CSV writer:
 * RFC 4180 quoting (a field with a comma, a quote or a line break is quoted, quotes doubled),
 * NULL as an empty field. json lines start with the comma that separates array elements;
 * CopyOutput drops the first one.
 */
const COPY_OF: Record<EntryFormat, { select: string; options: string }> = {
  json: { select: `',' || ${JSON_ENTRY}`, options: VERBATIM_LINES },
  ndjson: { select: JSON_ENTRY, options: VERBATIM_LINES },
  csv: { select: CSV_ENTRY_COLUMNS, options: 'FORMAT csv' },
};

/**
 * Owns the statement's SQL. Everything a statement shows is read inside one READ ONLY
 * REPEATABLE READ transaction on a connection of its own, so the header, the entries and the
 * totals all come from one snapshot however much money moves meanwhile.
 *
 * The connection is taken from the pool directly rather than through the TransactionRunner:
 * the transaction outlives the request handler (it ends when the last row has been streamed,
 * or when the client goes away) and streams a COPY, which a unit of work does not.
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
  /** The COPY of the entries, once started; `copyDone` when it has written its last row. */
  private copy?: Readable;
  private copyDone = false;
  private failureListener?: (error: Error) => void;
  private readonly onError = (error: unknown) => {
    // A session ended by the server while no query runs (idle-in-transaction timeout, a
    // terminated backend) is reported here; without a listener it would crash the process.
    // So is a failed COPY of the entries.
    this.broken = error;
    this.failureListener?.(toError(error));
  };

  constructor(private readonly client: PoolClient) {
    client.on('error', this.onError);
  }

  /**
   * Called when the connection fails while no query runs (PostgreSQL ended the session), or
   * the COPY of the entries fails (e.g. its client read nothing for the stall timeout): the
   * statement must fail then, not wait for the client.
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

  /**
   * The entries with from ≤ timestamp < to in history order, as the bytes of `format`, from
   * one `COPY … TO STDOUT`: PostgreSQL renders the rows and the service passes its bytes on
   * (no object per entry, so memory stays flat however long the range). Backpressure reaches
   * the server: when the consumer stops reading, the copy stream stops reading the socket and
   * PostgreSQL waits in `ClientWrite`. The stream fails when nothing moves for
   * `stallTimeoutMs` (a client that stopped reading), which closes the snapshot.
   */
  async copyEntries(
    format: EntryFormat,
    accountId: string,
    from: number,
    to: number,
    stallTimeoutMs: number,
  ): Promise<Readable> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
      throw new Error(`a statement range must be integers, not ${from}..${to}`);
    }
    const { select, options } = COPY_OF[format];
    // One statement for the whole export: the session's statement_timeout would cancel it.
    await this.client.query('SET LOCAL statement_timeout = 0');
    // COPY takes no parameters: the account id goes in as a quoted literal.
    const copy = copyTo(
      `COPY (SELECT ${select} FROM ledger_transactions l
              WHERE l.account_id = ${this.client.escapeLiteral(accountId)}
                AND l.timestamp >= ${from} AND l.timestamp < ${to}
              ORDER BY l.timestamp, l.transaction_id)
         TO STDOUT WITH (${options})`,
    );
    // node-postgres reads a submittable's own query_timeout, and clears its timer only
    // through its callback, which a copy stream never calls: `close` does.
    this.copy = Object.assign(copy, { query_timeout: EXPORT_READ_TIMEOUT_MS });
    this.client.query(copy);
    copy.once('end', () => {
      this.copyDone = true;
      this.endCopy();
    });
    const output = new CopyOutput({
      crlf: format === 'csv',
      dropFirstByte: format === 'json',
      stallTimeoutMs,
    });
    // A failure here (the stall timeout, a broken COPY) must reach the body even while the
    // body waits for its client to read, i.e. while nothing asks this stream for more.
    return pipeline(copy, output, (error) => {
      if (error) this.onError(error);
    });
  }

  private endCopy(): void {
    (this.copy as { callback?: () => void } | undefined)?.callback?.();
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
    this.endCopy();
    // A COPY cut short leaves the session mid-protocol: the connection cannot be reused.
    const cutShort =
      this.copy && !this.copyDone ? new Error('the statement ended before its COPY') : undefined;
    let failure: unknown = error ?? this.broken ?? cutShort;
    if (failure === undefined) {
      try {
        // Read only: COMMIT and ROLLBACK are the same; ROLLBACK also clears an aborted
        // transaction.
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
