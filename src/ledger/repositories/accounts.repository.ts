import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { XACT_ID_SQL } from '../../database/transaction-runner';
import { Account } from '../account.entity';
import type { AccountState } from '../engine/commands';

/**
 * The `accounts` table. The ledger is its only writer: balances and credit bookkeeping are
 * written with the batch's entries (LedgerRepository.post); rows are inserted here.
 */
@Injectable()
export class AccountsRepository {
  constructor(@InjectRepository(Account) private readonly accounts: Repository<Account>) {}

  /**
   * Locks the rows with `pessimistic_write` (SELECT … FOR UPDATE) in ONE query ordered by
   * account_id: every batch takes its locks in the same global order, so batches touching the
   * same accounts queue behind each other instead of deadlocking. Missing ids are simply absent.
   * Also returns the transaction's id, for the lost-COMMIT check (TransactionRunner).
   */
  async lockForUpdate(
    manager: EntityManager,
    accountIds: readonly string[],
  ): Promise<{ accounts: Account[]; xactId: string | undefined }> {
    if (accountIds.length === 0) return { accounts: [], xactId: undefined };
    const { entities, raw } = await manager
      .createQueryBuilder(Account, 'a')
      .addSelect(XACT_ID_SQL, 'xact_id')
      .where('a.account_id = ANY(:ids)', { ids: [...new Set(accountIds)] })
      .orderBy('a.account_id')
      .setLock('pessimistic_write')
      .getRawAndEntities<{ xact_id: string }>();
    return { accounts: entities, xactId: raw[0]?.xact_id };
  }

  /**
   * Inserts opened accounts. `ON CONFLICT DO NOTHING` waits for a concurrent insert of the same
   * id to commit or roll back, and then skips it: the ids returned are the ones inserted here.
   */
  async insert(
    manager: EntityManager,
    opened: readonly AccountState[],
  ): Promise<{ inserted: Set<string>; xactId: string | undefined }> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(Account)
      .values(opened.map((a) => ({ ...a, balance: 0, pendingCredits: 0, nextCreditDueAt: null })))
      .orIgnore()
      .returning(`account_id, ${XACT_ID_SQL} AS xact_id`)
      .execute();
    const rows = result.raw as { account_id: string; xact_id: string }[];
    return { inserted: new Set(rows.map((r) => r.account_id)), xactId: rows[0]?.xact_id };
  }

  /**
   * Waits until no batch holds the account's row lock: `FOR SHARE` conflicts with the batches'
   * `FOR UPDATE`, so it returns once every movement locked on the account before it has
   * committed (or rolled back). Autocommit: the share lock ends with the statement.
   */
  async awaitMovementsInFlight(accountId: string): Promise<void> {
    await this.accounts.query('SELECT 1 FROM accounts WHERE account_id = $1 FOR SHARE', [
      accountId,
    ]);
  }

  /** Accounts with an AUTHORIZED hold whose expiry has come, earliest first, at most `limit`. */
  async accountsWithHoldsToExpire(now: number, limit: number): Promise<string[]> {
    const rows = await this.accounts
      .createQueryBuilder('a')
      .select('a.account_id', 'accountId')
      .where('a.next_hold_expires_at <= :now', { now })
      .orderBy('a.next_hold_expires_at')
      .limit(limit)
      .getRawMany<{ accountId: string }>();
    return rows.map((r) => r.accountId);
  }

  findById(accountId: string): Promise<Account | null> {
    return this.accounts.findOneBy({ accountId });
  }

  /** Oldest first; ties on creation time broken by id, so the order is total and stable. */
  page(limit: number, after?: [createdAt: number, accountId: string]): Promise<Account[]> {
    const qb = this.accounts
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'ASC')
      .addOrderBy('a.account_id', 'ASC')
      .limit(limit);
    if (after) {
      const [createdAt, accountId] = after;
      qb.where('(a.created_at, a.account_id) > (:createdAt, :accountId)', { createdAt, accountId });
    }
    return qb.getMany();
  }
}
