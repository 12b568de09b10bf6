import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { HoldState, HoldStatus } from '../engine/commands';
import { toSafeInteger } from '../../database/bigint.transformer';
import { Hold } from '../hold.entity';

/** A `holds` row as the driver returns it (BIGINTs as strings). */
interface HoldRow {
  hold_id: string;
  account_id: string;
  target_account_id: string | null;
  amount: string;
  status: HoldStatus;
  expires_at: string;
  created_at: string;
  captured_amount: string;
  capture_movement_id: string | null;
  capture_payment_id: string | null;
  capture_timestamp: string | null;
  resolved_at: string | null;
}

function toHold(row: HoldRow): HoldState {
  const orNull = (v: string | null) => (v === null ? null : toSafeInteger(v));
  return {
    holdId: row.hold_id,
    accountId: row.account_id,
    targetAccountId: row.target_account_id,
    amount: toSafeInteger(row.amount),
    status: row.status,
    expiresAt: toSafeInteger(row.expires_at),
    createdAt: toSafeInteger(row.created_at),
    capturedAmount: toSafeInteger(row.captured_amount),
    captureMovementId: row.capture_movement_id,
    capturePaymentId: row.capture_payment_id,
    captureTimestamp: orNull(row.capture_timestamp),
    resolvedAt: orNull(row.resolved_at),
  };
}

/**
 * `holds`. Written only by the ledger engine, inside a batch that holds the row locks of the
 * hold's accounts (taken first, in account id order), so the hold rows are locked second, in
 * hold id order: the same order everywhere, the sweeper included.
 */
@Injectable()
export class HoldsRepository {
  constructor(@InjectRepository(Hold) private readonly holds: Repository<Hold>) {}

  /** The holds with these ids, locked (`pessimistic_write`), in hold id order. */
  lockByIds(manager: EntityManager, holdIds: readonly string[]): Promise<Hold[]> {
    return manager
      .createQueryBuilder(Hold, 'h')
      .where('h.hold_id = ANY(:ids)', { ids: [...new Set(holdIds)] })
      .orderBy('h.hold_id')
      .setLock('pessimistic_write')
      .getMany();
  }

  /**
   * For each (locked) account, its AUTHORIZED holds whose expiry is at or before the account's
   * threshold, locked, in expiry order; and the earliest expiry of those left AUTHORIZED. Two
   * statements, only in a batch where an account's `next_hold_expires_at` has passed.
   */
  async lockExpiring(
    manager: EntityManager,
    thresholds: ReadonlyMap<string, number>,
  ): Promise<{ due: HoldState[]; next: Map<string, number> }> {
    const ids = [...thresholds.keys()];
    const limits = [...thresholds.values()];
    // Raw SQL: a join to an unnest of per-account thresholds is beyond the query builder.
    const dueRows = await manager.query<HoldRow[]>(
      `SELECT h.* FROM holds AS h
         JOIN unnest($1::text[], $2::bigint[]) AS t(account_id, threshold)
           ON h.account_id = t.account_id AND h.status = 'AUTHORIZED' AND h.expires_at <= t.threshold
        ORDER BY h.expires_at, h.hold_id
          FOR UPDATE OF h`,
      [ids, limits],
    );
    const due = dueRows.map(toHold);
    const rows = await manager.query<{ account_id: string; next: string }[]>(
      `SELECT t.account_id, min(h.expires_at)::text AS next
         FROM unnest($1::text[], $2::bigint[]) AS t(account_id, threshold)
         JOIN holds AS h
           ON h.account_id = t.account_id AND h.status = 'AUTHORIZED' AND h.expires_at > t.threshold
        GROUP BY t.account_id`,
      [ids, limits],
    );
    return { due, next: new Map(rows.map((r) => [r.account_id, toSafeInteger(r.next)])) };
  }

  async insert(manager: EntityManager, holds: readonly HoldState[]): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(Hold)
      .values([...holds])
      .execute();
  }

  /** Writes the changed holds' state, in one statement. */
  async update(manager: EntityManager, holds: readonly HoldState[]): Promise<void> {
    await manager.query(
      `UPDATE holds AS h
          SET status = v.status, captured_amount = v.captured_amount,
              capture_movement_id = v.capture_movement_id, capture_payment_id = v.capture_payment_id,
              capture_timestamp = v.capture_timestamp, resolved_at = v.resolved_at
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::bigint[],
                     $7::bigint[])
              AS v(hold_id, status, captured_amount, capture_movement_id, capture_payment_id,
                   capture_timestamp, resolved_at)
        WHERE h.hold_id = v.hold_id`,
      [
        holds.map((h) => h.holdId),
        holds.map((h) => h.status),
        holds.map((h) => h.capturedAmount),
        holds.map((h) => h.captureMovementId),
        holds.map((h) => h.capturePaymentId),
        holds.map((h) => h.captureTimestamp),
        holds.map((h) => h.resolvedAt),
      ],
    );
  }

  findById(holdId: string): Promise<Hold | null> {
    return this.holds.findOneBy({ holdId });
  }

  /** One account's holds, oldest first (creation time, then id), optionally of one status. */
  page(
    accountId: string,
    limit: number,
    status?: HoldStatus,
    after?: [createdAt: number, holdId: string],
  ): Promise<Hold[]> {
    const qb = this.holds
      .createQueryBuilder('h')
      .where('h.account_id = :accountId', { accountId })
      .orderBy('h.created_at', 'ASC')
      .addOrderBy('h.hold_id', 'ASC')
      .limit(limit);
    if (status) qb.andWhere('h.status = :status', { status });
    if (after) {
      const [createdAt, holdId] = after;
      qb.andWhere('(h.created_at, h.hold_id) > (:createdAt, :holdId)', { createdAt, holdId });
    }
    return qb.getMany();
  }
}
