import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { toSafeInteger } from '../../database/bigint.transformer';
import type { CreditChange, NewCredit, PendingCredit } from '../engine/commands';
import { ScheduledCredit } from '../scheduled-credit.entity';

interface DueRow {
  reference: string;
  account_id: string;
  amount: string;
  due_at: string;
  entry_type: 'CASHBACK';
  due: boolean;
}

/** `scheduled_credits`: credits owed to accounts at a due time. */
@Injectable()
export class ScheduledCreditsRepository {
  constructor(
    @InjectRepository(ScheduledCredit) private readonly credits: Repository<ScheduledCredit>,
  ) {}

  /**
   * For each (locked) account, its pending credits due at or before its own threshold, oldest
   * first (ties: numeric reference order), and the due time of its next pending credit after
   * that. Served by the partial index on pending credits.
   */
  async findDue(
    manager: EntityManager,
    thresholds: ReadonlyMap<string, number>,
  ): Promise<{ due: PendingCredit[]; next: Map<string, number> }> {
    const rows = await manager.query<DueRow[]>(
      `WITH t AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS t(account_id, threshold))
       SELECT * FROM (
         SELECT c.reference, c.account_id, c.amount, c.due_at, c.entry_type, true AS due
           FROM t JOIN scheduled_credits AS c
             ON c.account_id = t.account_id AND c.settled_at IS NULL AND c.due_at <= t.threshold
         UNION ALL
         SELECT n.reference, n.account_id, n.amount, n.due_at, n.entry_type, false AS due
           FROM t CROSS JOIN LATERAL (
                  SELECT * FROM scheduled_credits AS c
                   WHERE c.account_id = t.account_id AND c.settled_at IS NULL
                     AND c.due_at > t.threshold
                   ORDER BY c.due_at LIMIT 1) AS n
       ) AS pending
       ORDER BY due_at, length(reference), reference`,
      [[...thresholds.keys()], [...thresholds.values()]],
    );
    const due: PendingCredit[] = [];
    const next = new Map<string, number>();
    for (const row of rows) {
      if (!row.due) {
        next.set(row.account_id, toSafeInteger(row.due_at));
        continue;
      }
      due.push({
        reference: row.reference,
        accountId: row.account_id,
        amount: toSafeInteger(row.amount),
        dueAt: toSafeInteger(row.due_at),
        entryType: row.entry_type,
      });
    }
    return { due, next };
  }

  /**
   * Marks credits booked. Callers hold their accounts' locks, so none can have been settled
   * since `findDue` read it; a count that differs means that invariant broke, and the caller
   * must roll back.
   */
  async markSettled(
    manager: EntityManager,
    settled: readonly { reference: string; movementId: string | null }[],
    settledAt: number,
  ): Promise<number> {
    const rows = await manager.query<{ n: number }[]>(
      `WITH s AS (
         UPDATE scheduled_credits AS c
            SET settled_at = $3::bigint, movement_id = v.movement_id
           FROM unnest($1::text[], $2::uuid[]) AS v(reference, movement_id)
          WHERE c.reference = v.reference AND c.settled_at IS NULL
         RETURNING 1)
       SELECT count(*)::int AS n FROM s`,
      [settled.map((s) => s.reference), settled.map((s) => s.movementId), settledAt],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Applies new amounts to pending credits in one statement (of several changes of one credit,
   * the last). Callers hold the accounts' locks, so every changed credit is still pending; a
   * count that differs means that invariant broke, and the caller must roll back.
   */
  async change(manager: EntityManager, changes: readonly CreditChange[]): Promise<number> {
    const last = [...new Map(changes.map((c) => [c.reference, c])).values()];
    const rows = await manager.query<{ n: number }[]>(
      `WITH s AS (
         UPDATE scheduled_credits AS c
            SET amount = v.amount
           FROM unnest($1::text[], $2::bigint[]) AS v(reference, amount)
          WHERE c.reference = v.reference AND c.settled_at IS NULL
         RETURNING 1)
       SELECT count(*)::int AS n FROM s`,
      [last.map((c) => c.reference), last.map((c) => c.amount)],
    );
    const count = rows[0]?.n ?? 0;
    if (count !== last.length) {
      throw new Error(`credit change raced: ${last.length} pending credits, ${count} changed`);
    }
    return count;
  }

  async insert(manager: EntityManager, credits: readonly NewCredit[]): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(ScheduledCredit)
      .values(credits.map((c) => ({ ...c, settledAt: null, movementId: null })))
      .execute();
  }

  findByReference(reference: string): Promise<ScheduledCredit | null> {
    return this.credits.findOneBy({ reference });
  }

  /** Accounts with credits due at `now`, oldest due first, at most `limit`. */
  async accountsWithDueCredits(now: number, limit: number): Promise<string[]> {
    const rows = await this.credits.query<{ account_id: string }[]>(
      `SELECT account_id FROM (
         SELECT account_id, min(due_at) AS first_due FROM (
           SELECT account_id, due_at FROM scheduled_credits
            WHERE settled_at IS NULL AND due_at <= $1::bigint
            ORDER BY due_at LIMIT $2) AS due
          GROUP BY account_id) AS accounts
        ORDER BY first_due`,
      [now, limit],
    );
    return rows.map((r) => r.account_id);
  }
}
