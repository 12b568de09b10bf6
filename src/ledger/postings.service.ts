import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { Clock } from '../common/clock/clock';
import { AccountNotFoundException, DomainException } from '../common/errors/domain.exception';
import { MAX_BALANCE } from '../common/money';
import { TransactionRunner, XACT_ID_SQL } from '../database/transaction-runner';
import { EntryType } from './ledger-entry.entity';

/**
 * Balances and entries of one movement in ONE statement (a data-modifying CTE), sent as a
 * prepared statement: fewer round trips and no re-planning while the row locks are held.
 * It returns the transaction's id, so a lost COMMIT reply can be resolved (TransactionRunner).
 */
const POST_MOVEMENT = {
  name: 'ledger_post_movement',
  text: `WITH updated AS (
         UPDATE accounts AS a
            SET balance = v.balance, last_entry_at = GREATEST(a.last_entry_at, $3::bigint)
           FROM unnest($1::text[], $2::bigint[]) AS v(account_id, balance)
          WHERE a.account_id = v.account_id
       )
       INSERT INTO ledger_transactions
         (movement_id, account_id, timestamp, operation, amount, balance_after,
          counterparty_account_id, payment_ref)
       SELECT $4::uuid, e.account_id, $3::bigint, e.operation, e.amount, e.balance_after,
              e.counterparty, e.payment_ref
         FROM unnest($5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[])
              WITH ORDINALITY AS e(account_id, operation, amount, balance_after, counterparty,
                                   payment_ref, ord)
        ORDER BY e.ord
       RETURNING ${XACT_ID_SQL} AS xact_id`,
};

/** One line of a movement: a signed amount on one account. */
export interface PostingLine {
  accountId: string;
  type: EntryType;
  /** Signed: positive credits the account, negative debits it. */
  amount: number;
  counterpartyAccountId?: string | null;
  paymentId?: string | null;
}

export interface PostedMovement {
  movementId: string;
  timestamp: number;
  /** Balance of each touched account after the movement. */
  balances: Map<string, number>;
}

/**
 * Something that owes accounts credits at a due time (cashbacks). It is asked to settle what
 * is due on accounts a movement has just locked, before the movement's own rules are checked,
 * so every movement starting after a due time sees the credit.
 */
export interface PendingCreditSettler {
  settleDue(manager: EntityManager, accounts: Map<string, Account>, now: number): Promise<void>;
}

/** The accounts of one movement, locked, with the movement's timestamp. */
export interface LockedAccounts {
  accounts: Map<string, Account>;
  /** Never earlier than any existing entry of these accounts: history order = posting order. */
  timestamp: number;
}

/**
 * The ledger's write path. Every movement, whatever endpoint it comes from, goes through
 * `lock` then `post` inside one TransactionRunner unit of work.
 */
@Injectable()
export class PostingsService {
  private readonly settlers: PendingCreditSettler[] = [];
  private readonly postedListeners: ((lines: readonly PostingLine[]) => void)[] = [];

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  registerPendingCreditSettler(settler: PendingCreditSettler): void {
    this.settlers.push(settler);
  }

  /**
   * Observes posted lines (metrics), once the movement's unit of work has committed: a
   * movement rolled back or retried is not reported. A listener must be cheap.
   */
  onPosted(listener: (lines: readonly PostingLine[]) => void): void {
    this.postedListeners.push(listener);
  }

  /**
   * Locks the accounts (one query, `account_id` order), settles credits already due on them,
   * and fixes the movement's timestamp: the later of the clock and the newest entry of any
   * locked account, so per-account timestamps never go backwards even if clocks do.
   * Missing accounts are reported in the order the caller listed them.
   */
  async lock(manager: EntityManager, accountIds: readonly string[]): Promise<LockedAccounts> {
    const rows = await this.transactions.lockForUpdate(manager, Account, 'accountId', accountIds);
    const accounts = new Map(rows.map((a) => [a.accountId, a]));
    for (const id of accountIds) {
      if (!accounts.has(id)) throw new AccountNotFoundException(id);
    }
    let timestamp = this.clock.now();
    for (const account of rows) timestamp = Math.max(timestamp, account.lastEntryAt);
    const due = rows.some((a) => a.nextCashbackDueAt !== null && a.nextCashbackDueAt <= timestamp);
    if (due) {
      for (const settler of this.settlers) await settler.settleDue(manager, accounts, timestamp);
    }
    return { accounts, timestamp };
  }

  /**
   * Appends the lines as one movement and updates the balances, in ONE statement (a
   * data-modifying CTE): fewer round trips while the row locks are held. Balance rules are
   * checked here on the locked rows: below 0 is INSUFFICIENT_FUNDS; a credit that would take
   * the balance plus the cashbacks still owed to the account above 2^53−1 is
   * BALANCE_LIMIT_EXCEEDED (so a promised cashback can always be credited). The in-memory accounts are updated to their new state.
   */
  async post(
    manager: EntityManager,
    locked: LockedAccounts,
    lines: readonly PostingLine[],
    options: { timestamp?: number; movementId?: string } = {},
  ): Promise<PostedMovement> {
    const timestamp = options.timestamp ?? locked.timestamp;
    const movementId = options.movementId ?? randomUUID();
    const balances = new Map<string, number>();
    const balanceAfter: number[] = [];
    for (const line of lines) {
      const account = locked.accounts.get(line.accountId);
      if (!account) throw new AccountNotFoundException(line.accountId);
      const before = balances.get(line.accountId) ?? account.balance;
      const after = before + line.amount;
      if (after < 0) {
        throw new DomainException(
          'INSUFFICIENT_FUNDS',
          `Account ${account.accountId} has ${before}, needs ${-line.amount}.`,
        );
      }
      if (line.amount > 0 && after + account.pendingCredits > MAX_BALANCE) {
        const pending = account.pendingCredits
          ? ` (${account.pendingCredits} more is already promised as cashback)`
          : '';
        throw new DomainException(
          'BALANCE_LIMIT_EXCEEDED',
          `Account ${account.accountId} would hold ${after}${pending}, above the limit of ${MAX_BALANCE}.`,
        );
      }
      balances.set(line.accountId, after);
      balanceAfter.push(after);
    }
    const touched = [...balances.keys()];
    const posted = await this.transactions.queryPrepared<{ xact_id: string }>(
      manager,
      POST_MOVEMENT,
      [
        touched,
        touched.map((id) => balances.get(id)),
        timestamp,
        movementId,
        lines.map((l) => l.accountId),
        lines.map((l) => l.type),
        lines.map((l) => l.amount),
        balanceAfter,
        lines.map((l) => l.counterpartyAccountId ?? null),
        lines.map((l) => l.paymentId ?? null),
      ],
    );
    this.transactions.noteTransactionId(posted[0]?.xact_id);

    for (const [id, balance] of balances) {
      const account = locked.accounts.get(id)!;
      account.balance = balance;
      account.lastEntryAt = Math.max(account.lastEntryAt, timestamp);
    }
    if (this.postedListeners.length > 0) {
      this.transactions.afterCommit(() => {
        for (const listener of this.postedListeners) listener(lines);
      });
    }
    return { movementId, timestamp, balances };
  }

  /**
   * Settle-on-touch for read paths: when the account has a credit due, settle it in its own
   * short transaction before the read, so a read that starts after a due time sees the credit.
   * Cheap when nothing is due (the caller passes the row it already read).
   */
  async settleDueBeforeRead(
    account: Pick<Account, 'accountId' | 'nextCashbackDueAt'>,
  ): Promise<boolean> {
    if (account.nextCashbackDueAt === null || account.nextCashbackDueAt > this.clock.now()) {
      return false;
    }
    await this.transactions.run((manager) => this.lock(manager, [account.accountId]));
    return true;
  }
}
