import { Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APPLICATION_NAME, sessionSettings } from '../database/data-source-options';
import { DatabaseLocation } from '../database/database-location';
import { markCancelledByService } from '../common/errors/pg-errors';

/** One account as the ledger explains it, read in the audit's snapshot (BIGINTs as text). */
export interface AuditAccountRow {
  accountId: string;
  balance: string;
  /** The balance may not be below −overdraftLimit. */
  overdraftLimit: string;
  /** The account's `held_amount`, and the sum of its AUTHORIZED holds it must equal. */
  heldAmount: string;
  holdsSum: string;
  ledgerSum: string;
  /** balance_after of the account's last entry in history order; null without entries. */
  lastBalanceAfter: string | null;
  entries: string;
  /** Entries whose balance_after is not the previous one's plus their amount. */
  brokenLinks: string;
  firstBrokenEntry: string | null;
  /**
   * The account's payments whose cashback the ledger does not explain: once settled, credited
   * minus reversed cashback differs from the payment's cashbackAmount (pending: the credit
   * owed differs from it), or its REFUND entries differ from its refundedAmount.
   */
  badPayments: string;
  firstBadPayment: string | null;
}

/** Reads of one consistent snapshot of the whole ledger. */
export interface AuditSnapshot {
  /**
   * The next at most `limit` accounts in account_id order after `afterAccountId` ('' for the
   * first chunk), each with its ledger figures: keyset pagination, one statement per chunk.
   */
  chunk(afterAccountId: string, limit: number): Promise<AuditAccountRow[]>;
}

/**
 * One statement per chunk. The ledger side reads the range (after, last account of the chunk]
 * of idx_ledger_transactions_account_timestamp, which yields the rows already in window order
 * (account_id, timestamp, transaction_id): no sort, cost proportional to the chunk's entries.
 * The payment check reads the chunk's payments (idx_payments_account) and their entries
 * (idx_ledger_transactions_payment_ref): cost proportional to the chunk's payments.
 * Raw SQL: window functions over a keyset range are beyond TypeORM's query builder.
 */
const CHUNK_SQL = `
  WITH chunk AS MATERIALIZED (
    SELECT account_id, balance, overdraft_limit, held_amount
      FROM accounts
     WHERE account_id > $1
     ORDER BY account_id
     LIMIT $2
  ), chain AS (
    SELECT e.account_id, e.transaction_id, e.amount, e.balance_after,
           e.balance_after - e.amount <> COALESCE(LAG(e.balance_after) OVER w, 0) AS broken,
           LEAD(e.transaction_id) OVER w IS NULL AS is_last
      FROM ledger_transactions e
     WHERE e.account_id > $1
       AND e.account_id <= (SELECT max(account_id) FROM chunk)
    WINDOW w AS (PARTITION BY e.account_id ORDER BY e.timestamp, e.transaction_id)
  ), payment_check AS (
    SELECT p.account_id, COUNT(*) AS bad_payments, MIN(p.payment_id) AS first_bad_payment
      FROM payments p
      JOIN scheduled_credits c ON c.reference = p.payment_id
      CROSS JOIN LATERAL (
             SELECT COALESCE(SUM(e.amount) FILTER (
                      WHERE e.operation IN ('CASHBACK', 'CASHBACK_REVERSAL')), 0) AS credited,
                    COALESCE(SUM(e.amount) FILTER (WHERE e.operation = 'REFUND'), 0) AS refunded
               FROM ledger_transactions e
              WHERE e.payment_ref = p.payment_id) s
     WHERE p.account_id > $1
       AND p.account_id <= (SELECT max(account_id) FROM chunk)
       AND (s.refunded <> p.refunded_amount
            OR CASE WHEN c.settled_at IS NULL THEN c.amount ELSE s.credited END
               <> p.cashback_amount)
     GROUP BY p.account_id
  ), per_account AS (
    SELECT account_id,
           SUM(amount) AS ledger_sum,
           COUNT(*) AS entries,
           COUNT(*) FILTER (WHERE broken) AS broken_links,
           MIN(transaction_id) FILTER (WHERE broken) AS first_broken_entry,
           MAX(balance_after) FILTER (WHERE is_last) AS last_balance_after
      FROM chain
     GROUP BY account_id
  )
  SELECT c.account_id AS "accountId",
         c.balance::text AS "balance",
         c.overdraft_limit::text AS "overdraftLimit",
         c.held_amount::text AS "heldAmount",
         (SELECT COALESCE(SUM(h.amount), 0) FROM holds AS h
           WHERE h.account_id = c.account_id AND h.status = 'AUTHORIZED')::text AS "holdsSum",
         COALESCE(p.ledger_sum, 0)::text AS "ledgerSum",
         p.last_balance_after::text AS "lastBalanceAfter",
         COALESCE(p.entries, 0)::text AS "entries",
         COALESCE(p.broken_links, 0)::text AS "brokenLinks",
         p.first_broken_entry::text AS "firstBrokenEntry",
         COALESCE(b.bad_payments, 0)::text AS "badPayments",
         b.first_bad_payment AS "firstBadPayment"
    FROM chunk c
    LEFT JOIN per_account p USING (account_id)
    LEFT JOIN payment_check b USING (account_id)
   ORDER BY c.account_id`;

/** How long opening the audit's connection may take before the audit gives up (503). */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * Owns the audit's SQL and its database connection: a pg Client of its own, opened per run from
 * the service's DATABASE_URL and closed after it, never one of the request pool's. However long
 * an audit takes, it therefore costs the instance at most this one extra connection, and the
 * pool's short DB_STATEMENT_TIMEOUT_MS does not apply: the connection has its own
 * AUDIT_STATEMENT_TIMEOUT_MS per chunk statement (plus the pool's lock and idle-in-transaction
 * timeouts).
 *
 * The snapshot is one READ ONLY REPEATABLE READ transaction: every chunk sees the ledger as of
 * its first statement, so movements committing meanwhile can neither show up as false
 * mismatches nor be counted twice. It takes no lock but ACCESS SHARE, so money keeps moving.
 */
@Injectable()
export class AuditRepository {
  private readonly logger = new Logger(AuditRepository.name);
  /** The run in progress; `pid` is its backend's once connected. */
  private running?: { pid?: number; cancelled: boolean };

  constructor(
    private readonly location: DatabaseLocation,
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
  ) {}

  async inSnapshot<T>(work: (snapshot: AuditSnapshot) => Promise<T>): Promise<T> {
    const client = new Client({
      connectionString: this.location.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: `${APPLICATION_NAME}:audit`,
      ...sessionSettings({
        statementTimeoutMs: this.config.get('AUDIT_STATEMENT_TIMEOUT_MS'),
        lockTimeoutMs: this.config.get('DB_LOCK_TIMEOUT_MS'),
        idleInTransactionSessionTimeoutMs: this.config.get(
          'DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS',
        ),
      }),
    });
    // A connection that dies between two statements emits `error`; the next query then fails.
    client.on('error', (error) => this.logger.warn(`audit connection lost: ${error.message}`));
    const run: { pid?: number; cancelled: boolean } = { cancelled: false };
    this.running = run;
    try {
      await client.connect();
      run.pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      if (run.cancelled) throw shuttingDown();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshot: AuditSnapshot = {
        chunk: async (afterAccountId, limit) => {
          if (run.cancelled) throw shuttingDown();
          return (await client.query<AuditAccountRow>(CHUNK_SQL, [afterAccountId, limit])).rows;
        },
      };
      const result = await work(snapshot);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      throw run.cancelled ? markCancelledByService(error) : error;
    } finally {
      if (this.running === run) this.running = undefined;
      // Ending the session also ends its transaction if it is still open.
      await client.end().catch(() => {});
    }
  }

  /**
   * Shutdown: stops a running audit now rather than after its last chunk (it could outlast
   * the shutdown deadline). The cancel is sent from the pool, which is still open at this point.
   * The audit's request then fails as "service going away" (503 DATABASE_UNAVAILABLE).
   */
  async cancelRunning(): Promise<void> {
    const run = this.running;
    if (!run) return;
    // Seen before its next statement; the cancel stops the statement running now, if any.
    run.cancelled = true;
    if (run.pid === undefined) return;
    await this.dataSource
      .query('SELECT pg_cancel_backend($1)', [run.pid])
      .catch((error: unknown) => this.logger.warn(`could not cancel the audit: ${String(error)}`));
  }
}

function shuttingDown(): Error {
  return markCancelledByService(new Error('audit stopped: the service is shutting down'));
}
