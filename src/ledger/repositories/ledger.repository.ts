import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { toSafeInteger } from '../../database/bigint.transformer';
import { PreparedStatement, queryPrepared } from '../../database/prepared-statement';
import { XACT_ID_SQL } from '../../database/transaction-runner';
import type {
  AccountState,
  EntryLine,
  EventDraft,
  LedgerRecord,
  LedgerRecordUpdate,
  RefundableState,
} from '../engine/commands';
import { LedgerEntry } from '../ledger-entry.entity';

/**
 * One event of a batch for the outbox, in the order they are written (which is the order of
 * their event ids): a command's own draft, the `transaction.posted` of a movement (built from
 * its inserted entries), or the `payment.cashback_credited` of a settled credit.
 */
export type OutboxSlot =
  | { readonly kind: 'draft'; readonly draft: EventDraft }
  | { readonly kind: 'posted'; readonly movementId: string }
  | {
      readonly kind: 'credited';
      readonly reference: string;
      readonly accountId: string;
      readonly occurredAt: number;
    };

/**
 * A whole batch's entries, the new state of every account it touched and its events, in ONE
 * statement (a data-modifying CTE), sent prepared: the batch's write costs one round trip however
 * many movements it holds, and is planned once per connection. Entries are inserted in the order
 * given, so their ids (the history's tie-breaker) follow the order the batch decided them.
 *
 * The outbox rows (`events`) are written by the same statement, so an event exists iff its change
 * committed. `transaction.posted` is built here from the inserted rows, as it needs their entry
 * ids; its `type` is derived like LedgerQueries.transaction derives it (keep the two in step).
 * `payment.cashback_credited` reads the `payments` row of the credit's reference: that is the one
 * place the ledger reads a table of the payments module (its shape: PaymentsService.get).
 * It returns the transaction's id for the lost-COMMIT check.
 * Also the entries' ids in the order given (one sequence, rows inserted in that order:
 * ascending ids are that order).
 */
const POST_BATCH: PreparedStatement = {
  name: 'ledger_post_batch',
  text: `WITH updated AS (
         UPDATE accounts AS a
            SET balance = v.balance, last_entry_at = v.last_entry_at,
                next_credit_due_at = v.next_credit_due_at, pending_credits = v.pending_credits,
                status = v.status, overdraft_limit = v.overdraft_limit,
                daily_debit_limit = v.daily_debit_limit, held_amount = v.held_amount,
                debit_day = v.debit_day, debit_used = v.debit_used,
                next_hold_expires_at = v.next_hold_expires_at
           FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                       $15::text[], $16::bigint[], $17::bigint[], $18::bigint[], $19::int[],
                       $20::bigint[], $21::bigint[])
                AS v(account_id, balance, last_entry_at, next_credit_due_at, pending_credits,
                     status, overdraft_limit, daily_debit_limit, held_amount, debit_day,
                     debit_used, next_hold_expires_at)
          WHERE a.account_id = v.account_id
       ), inserted AS (
         INSERT INTO ledger_transactions
           (movement_id, account_id, timestamp, operation, amount, balance_after,
            counterparty_account_id, payment_ref, reversed_transaction_id)
         SELECT e.movement_id, e.account_id, e.timestamp, e.operation, e.amount, e.balance_after,
                e.counterparty, e.payment_ref, e.reversed
           FROM unnest($6::uuid[], $7::text[], $8::bigint[], $9::text[], $10::bigint[],
                       $11::bigint[], $12::text[], $13::text[], $22::uuid[])
                WITH ORDINALITY AS e(movement_id, account_id, timestamp, operation, amount,
                                     balance_after, counterparty, payment_ref, reversed, ord)
          ORDER BY e.ord
         RETURNING transaction_id, movement_id, account_id, timestamp, operation, amount,
                   balance_after, counterparty_account_id, payment_ref, reversed_transaction_id
       ), movements AS (
         SELECT i.movement_id,
                CASE WHEN bool_or(i.operation IN ('TRANSFER_OUT', 'TRANSFER_IN')) THEN 'TRANSFER'
                     ELSE (array_agg(i.operation ORDER BY i.transaction_id))[1] END AS type,
                min(i.timestamp) AS timestamp,
                array_agg(DISTINCT i.account_id) AS account_ids,
                jsonb_agg(jsonb_build_object(
                  'entryId', i.transaction_id::text, 'transactionId', i.movement_id,
                  'accountId', i.account_id, 'type', i.operation, 'amount', i.amount,
                  'balanceAfter', i.balance_after, 'timestamp', i.timestamp,
                  'counterpartyAccountId', i.counterparty_account_id, 'paymentId', i.payment_ref,
                  'reversedTransactionId', i.reversed_transaction_id
                ) ORDER BY i.transaction_id) AS entries
           FROM inserted i
          GROUP BY i.movement_id
       ), slots AS (
         SELECT s.ord,
                CASE s.k WHEN 'draft' THEN s.t
                         WHEN 'posted' THEN 'transaction.posted'
                         ELSE 'payment.cashback_credited' END AS type,
                CASE s.k WHEN 'posted' THEN m.account_ids ELSE s.a END AS account_ids,
                CASE s.k WHEN 'posted' THEN m.timestamp ELSE s.o END AS occurred_at,
                CASE s.k
                  WHEN 'draft' THEN s.d
                  WHEN 'posted' THEN jsonb_build_object(
                    'transactionId', m.movement_id, 'type', m.type, 'timestamp', m.timestamp,
                    'entries', m.entries, 'reversedAmount', 0)
                  ELSE (SELECT jsonb_build_object(
                    'paymentId', p.payment_id, 'transactionId', p.movement_id,
                    'accountId', p.account_id, 'amount', p.amount,
                    'refundedAmount', p.refunded_amount, 'cashbackAmount', p.cashback_amount,
                    'cashbackRateBps', p.cashback_rate_bps, 'cashbackDueAt', p.cashback_due_at,
                    'status', 'CASHBACK_RECEIVED', 'timestamp', p.timestamp)
                    FROM payments p
                   -- A fully refunded payment is REFUNDED and never credits a cashback.
                   WHERE p.payment_id = s.r AND p.refunded_amount < p.amount)
                END AS data
           FROM ROWS FROM (jsonb_to_recordset($14::jsonb)
                  AS (k text, t text, a text[], o bigint, d jsonb, m uuid, r text))
                WITH ORDINALITY AS s(k, t, a, o, d, m, r, ord)
           LEFT JOIN movements m ON s.k = 'posted' AND m.movement_id = s.m
       ), written AS (
         INSERT INTO events (type, account_ids, occurred_at, data)
         SELECT type, account_ids, occurred_at, data FROM slots
          WHERE data IS NOT NULL
          ORDER BY ord
         RETURNING 1
       )
       SELECT ${XACT_ID_SQL} AS xact_id, (SELECT count(*) FROM written)::int AS events,
              (SELECT array_agg(transaction_id::text ORDER BY transaction_id) FROM inserted)
                AS entry_ids`,
};

/** `ledger_transactions` (append-only) and the ids drawn for movements. */
@Injectable()
export class LedgerRepository {
  constructor(@InjectRepository(LedgerEntry) private readonly entries: Repository<LedgerEntry>) {}

  /**
   * Writes the entries, the accounts' new state and the batch's events; returns the
   * transaction's id, how many events were written and the entries' ids, in the order of `lines`.
   */
  async post(
    manager: EntityManager,
    lines: readonly EntryLine[],
    accounts: readonly AccountState[],
    events: readonly OutboxSlot[] = [],
  ): Promise<{ xactId: string | undefined; events: number; entryIds: string[] }> {
    const rows = await queryPrepared<{
      xact_id: string;
      events: number;
      entry_ids: string[] | null;
    }>(manager, POST_BATCH, [
      accounts.map((a) => a.accountId),
      accounts.map((a) => a.balance),
      accounts.map((a) => a.lastEntryAt),
      accounts.map((a) => a.nextCreditDueAt),
      accounts.map((a) => a.pendingCredits),
      lines.map((l) => l.movementId),
      lines.map((l) => l.accountId),
      lines.map((l) => l.timestamp),
      lines.map((l) => l.type),
      lines.map((l) => l.amount),
      lines.map((l) => l.balanceAfter),
      lines.map((l) => l.counterpartyAccountId),
      lines.map((l) => l.paymentId),
      JSON.stringify(events.map(toSlotRow)),
      accounts.map((a) => a.status),
      accounts.map((a) => a.overdraftLimit),
      accounts.map((a) => a.dailyDebitLimit),
      accounts.map((a) => a.heldAmount),
      accounts.map((a) => a.debitDay),
      accounts.map((a) => a.debitUsed),
      accounts.map((a) => a.nextHoldExpiresAt),
      lines.map((l) => l.reversedTransactionId ?? null),
    ]);
    return {
      xactId: rows[0]?.xact_id,
      events: rows[0]?.events ?? 0,
      entryIds: rows[0]?.entry_ids ?? [],
    };
  }

  /**
   * The refund state of each payment, from the ledger's own rows: its scheduled credit (the
   * cashback, pending or settled) and its entries (refunded so far; credited net of
   * reversals). Called under the payments' accounts' locks, in one statement per batch.
   */
  async refundables(
    manager: EntityManager,
    paymentIds: readonly string[],
  ): Promise<RefundableState[]> {
    const rows = await manager.query<
      { reference: string; amount: string; settled: boolean; refunded: string; credited: string }[]
    >(
      `SELECT c.reference, c.amount::text, c.settled_at IS NOT NULL AS settled,
              COALESCE(s.refunded, 0)::text AS refunded, COALESCE(s.credited, 0)::text AS credited
         FROM scheduled_credits AS c
         LEFT JOIN LATERAL (
                SELECT SUM(e.amount) FILTER (WHERE e.operation = 'REFUND') AS refunded,
                       SUM(e.amount) FILTER (WHERE e.operation IN ('CASHBACK', 'CASHBACK_REVERSAL'))
                         AS credited
                  FROM ledger_transactions AS e
                 WHERE e.payment_ref = c.reference) AS s ON true
        WHERE c.reference = ANY($1::text[])`,
      [[...new Set(paymentIds)]],
    );
    return rows.map((r) => ({
      paymentId: r.reference,
      refunded: toSafeInteger(r.refunded),
      cashback: toSafeInteger(r.settled ? r.credited : r.amount),
      cashbackSettled: r.settled,
    }));
  }

  /**
   * How much of each movement is reversed so far: the REVERSAL entries that point at it, on
   * one of its accounts (each reversal books its amount once per account of the original).
   */
  async reversedAmounts(
    manager: EntityManager,
    movementIds: readonly string[],
  ): Promise<Map<string, number>> {
    const rows = await manager.query<{ id: string; reversed: string }[]>(
      `SELECT r.reversed_transaction_id AS id, SUM(abs(r.amount))::text AS reversed
         FROM ledger_transactions AS r
        WHERE r.reversed_transaction_id = ANY($1::uuid[])
          AND r.account_id = (SELECT o.account_id FROM ledger_transactions AS o
                               WHERE o.movement_id = r.reversed_transaction_id
                               ORDER BY o.transaction_id LIMIT 1)
        GROUP BY r.reversed_transaction_id`,
      [[...new Set(movementIds)]],
    );
    return new Map(rows.map((r) => [r.id, toSafeInteger(r.reversed)]));
  }

  /** Updates rows other modules change with their movements, one statement each, in order. */
  async updateRecords(
    manager: EntityManager,
    updates: readonly LedgerRecordUpdate[],
  ): Promise<void> {
    for (const update of updates) {
      await manager
        .createQueryBuilder()
        .update(update.entity)
        .set(update.values)
        .where(update.where)
        .execute();
    }
  }

  /**
   * `count` payment ids from `payment_seq`, in one statement, in increasing order. Drawn only
   * for accepted payments; a batch rolled back still consumes them (sequences are not
   * transactional), so ids may have gaps, as the contract allows.
   */
  async nextPaymentIds(manager: EntityManager, count: number): Promise<string[]> {
    const rows = await manager.query<{ n: string }[]>(
      `SELECT n::text AS n FROM (SELECT nextval('payment_seq') AS n FROM generate_series(1, $1::int)) AS ids ORDER BY ids.n`,
      [count],
    );
    return rows.map((r) => `payment${r.n}`);
  }

  /** Rows other modules add with their movements: one INSERT per table. */
  async insertRecords(manager: EntityManager, records: readonly LedgerRecord[]): Promise<void> {
    const byEntity = new Map<LedgerRecord['entity'], Record<string, unknown>[]>();
    for (const record of records) {
      const rows = byEntity.get(record.entity) ?? [];
      rows.push(record.values);
      byEntity.set(record.entity, rows);
    }
    for (const [entity, rows] of byEntity) {
      await manager.createQueryBuilder().insert().into(entity).values(rows).execute();
    }
  }

  /**
   * The balance after every entry with timestamp ≤ at: the stored balance_after of the last
   * such entry in (timestamp, id) order — one index probe, no summing of history.
   */
  async balanceAt(accountId: string, at: number): Promise<number> {
    const last = await this.entries
      .createQueryBuilder('e')
      .select('e.balance_after', 'balanceAfter')
      .where('e.account_id = :accountId AND e.timestamp <= :at', { accountId, at })
      .orderBy('e.timestamp', 'DESC')
      .addOrderBy('e.transaction_id', 'DESC')
      .limit(1)
      .getRawOne<{ balanceAfter: string }>();
    return last ? toSafeInteger(last.balanceAfter) : 0;
  }

  /** One account's entries in (timestamp, entryId) order, keyset-paginated. */
  history(
    accountId: string,
    limit: number,
    upTo?: number,
    after?: [timestamp: number, entryId: string],
  ): Promise<LedgerEntry[]> {
    const qb = this.entries
      .createQueryBuilder('e')
      .where('e.account_id = :accountId', { accountId })
      .orderBy('e.timestamp', 'ASC')
      .addOrderBy('e.transaction_id', 'ASC')
      .limit(limit);
    if (upTo !== undefined) qb.andWhere('e.timestamp <= :upTo', { upTo });
    if (after) {
      const [timestamp, entryId] = after;
      qb.andWhere('(e.timestamp, e.transaction_id) > (:timestamp, :entryId)', {
        timestamp,
        entryId,
      });
    }
    return qb.getMany();
  }

  /** The entries of one movement, in the order they were posted. */
  movement(movementId: string): Promise<LedgerEntry[]> {
    return this.entries.find({ where: { movementId }, order: { entryId: 'ASC' } });
  }

  /** How much of a movement is reversed so far (0 when nothing is), as committed. */
  async reversedAmount(movementId: string): Promise<number> {
    const reversed = await this.reversedAmounts(this.entries.manager, [movementId]);
    return reversed.get(movementId) ?? 0;
  }
}

/** The JSON row POST_BATCH reads a slot from (short keys: k kind, t type, a accountIds, …). */
function toSlotRow(slot: OutboxSlot): Record<string, unknown> {
  switch (slot.kind) {
    case 'draft':
      return {
        k: 'draft',
        t: slot.draft.type,
        a: slot.draft.accountIds,
        o: slot.draft.occurredAt,
        d: slot.draft.data,
      };
    case 'posted':
      return { k: 'posted', m: slot.movementId };
    case 'credited':
      return { k: 'credited', r: slot.reference, a: [slot.accountId], o: slot.occurredAt };
  }
}
