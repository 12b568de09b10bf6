import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { toSafeInteger } from '../database/bigint.transformer';
import { PendingCreditSettler, PostingsService } from '../ledger/postings.service';

interface DueCashbackRow {
  payment_id: string;
  account_id: string;
  amount: string;
  due_at: string;
}

interface SettledRow {
  account_id: string;
  next_cashback_due_at: string | null;
  pending_credits: string;
  settled: number;
}

/**
 * Credits due cashbacks. Registered with PostingsService, so every movement settles what is
 * due on the accounts it has just locked before checking its own rules; the background worker
 * and settle-on-touch reads reach it the same way, always under the account's row lock.
 *
 * - Exactly once: callers hold `FOR UPDATE` on the account, and a cashback row is only ever
 *   settled under its account's lock, so the `settled_at IS NULL` read here cannot be stale.
 *   The marking UPDATE re-checks it and a mismatch rolls the whole unit back.
 * - History order: each entry is booked at its due time, oldest first. Every write to an
 *   account settles what is due at or before its own timestamp first, so no entry of the
 *   account is later than a pending cashback's due time and the `balance_after` chain read
 *   in (timestamp, id) order is the posting order.
 */
@Injectable()
export class CashbackSettler implements PendingCreditSettler, OnModuleInit {
  constructor(private readonly postings: PostingsService) {}

  onModuleInit(): void {
    this.postings.registerPendingCreditSettler(this);
  }

  async settleDue(
    manager: EntityManager,
    accounts: Map<string, Account>,
    now: number,
  ): Promise<void> {
    await this.settle(manager, accounts, now);
  }

  /** Settles the cashbacks due at or before `now` on the (locked) accounts; returns how many. */
  async settle(
    manager: EntityManager,
    accounts: Map<string, Account>,
    now: number,
  ): Promise<number> {
    const dueAccounts = [...accounts.values()]
      .filter((a) => a.nextCashbackDueAt !== null && a.nextCashbackDueAt <= now)
      .map((a) => a.accountId);
    if (dueAccounts.length === 0) return 0;

    // Numeric payment order breaks ties between cashbacks due at the same millisecond.
    const due: DueCashbackRow[] = await manager.query(
      `SELECT payment_id, account_id, amount, due_at
         FROM cashbacks
        WHERE account_id = ANY($1::text[]) AND settled_at IS NULL AND due_at <= $2::bigint
        ORDER BY due_at, length(payment_id), payment_id`,
      [dueAccounts, now],
    );
    // Mark the rows settled and release their reservation (pending_credits) BEFORE crediting:
    // balance + pending_credits never exceeds the limit at any statement. One statement also
    // recomputes each account's next due time; the outer query's snapshot does not see the
    // CTE's update, hence the explicit exclusion.
    const movementIds = due.map((row) => (row.amount === '0' ? null : randomUUID()));
    const paymentIds = due.map((r) => r.payment_id);
    const rows: SettledRow[] = await manager.query(
      `WITH settled AS (
         UPDATE cashbacks AS c
            SET settled_at = $3::bigint, movement_id = v.movement_id
           FROM unnest($1::text[], $2::uuid[]) AS v(payment_id, movement_id)
          WHERE c.payment_id = v.payment_id AND c.settled_at IS NULL
         RETURNING c.payment_id
       ), next_due AS (
         UPDATE accounts AS a
            SET next_cashback_due_at = (
                  SELECT min(c.due_at) FROM cashbacks AS c
                   WHERE c.account_id = a.account_id AND c.settled_at IS NULL
                     AND c.payment_id <> ALL ($1::text[])),
                pending_credits = a.pending_credits - (
                  SELECT COALESCE(SUM(c.amount), 0) FROM cashbacks AS c
                   WHERE c.account_id = a.account_id AND c.payment_id = ANY ($1::text[])
                     AND c.settled_at IS NULL)
          WHERE a.account_id = ANY($4::text[])
         RETURNING a.account_id, a.next_cashback_due_at, a.pending_credits
       )
       SELECT n.account_id, n.next_cashback_due_at, n.pending_credits,
              (SELECT count(*) FROM settled)::int AS settled
         FROM next_due AS n`,
      [paymentIds, movementIds, now, dueAccounts],
    );
    const settled = rows[0]?.settled ?? 0;
    if (settled !== due.length) {
      throw new Error(
        `cashback settlement raced: ${due.length} due rows read, ${settled} marked (is the account locked?)`,
      );
    }
    for (const row of rows) {
      const account = accounts.get(row.account_id);
      if (account) {
        account.nextCashbackDueAt =
          row.next_cashback_due_at === null ? null : toSafeInteger(row.next_cashback_due_at);
        account.pendingCredits = toSafeInteger(row.pending_credits);
      }
    }

    for (const [i, row] of due.entries()) {
      const movementId = movementIds[i];
      if (!movementId) continue; // a cashback of 0 completes at its due time without an entry
      await this.postings.post(
        manager,
        { accounts, timestamp: toSafeInteger(row.due_at) },
        [
          {
            accountId: row.account_id,
            type: 'CASHBACK',
            amount: toSafeInteger(row.amount),
            paymentId: row.payment_id,
          },
        ],
        { movementId },
      );
    }
    return due.length;
  }
}
