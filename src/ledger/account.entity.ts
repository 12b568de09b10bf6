import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AccountStatus } from './engine/commands';
import { bigintTransformer } from '../database/bigint.transformer';

@Entity({ name: 'accounts' })
export class Account {
  @PrimaryColumn({ name: 'account_id', type: 'text' })
  accountId!: string;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintTransformer })
  createdAt!: number;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  balance!: number;

  /** Timestamp of the newest ledger entry: movement timestamps never go backwards per account. */
  @Column({ name: 'last_entry_at', type: 'bigint', transformer: bigintTransformer })
  lastEntryAt!: number;

  /**
   * Earliest due time of this account's pending scheduled credits (NULL: none). Lets every
   * batch see from the row it already locked whether a credit must be settled first.
   */
  @Column({
    name: 'next_credit_due_at',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  nextCreditDueAt!: number | null;

  /**
   * Sum of this account's scheduled credits not yet booked. Credits must leave room for them
   * under the 2^53−1 limit (a CHECK enforces balance + pending_credits ≤ 2^53−1).
   */
  @Column({ name: 'pending_credits', type: 'bigint', transformer: bigintTransformer })
  pendingCredits!: number;

  @Column({ type: 'text' })
  status!: AccountStatus;

  /** The balance may go down to −overdraftLimit (a CHECK keeps it there). */
  @Column({ name: 'overdraft_limit', type: 'bigint', transformer: bigintTransformer })
  overdraftLimit!: number;

  @Column({
    name: 'daily_debit_limit',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  dailyDebitLimit!: number | null;

  /** Sum of the remaining amounts of the account's AUTHORIZED holds. */
  @Column({ name: 'held_amount', type: 'bigint', transformer: bigintTransformer })
  heldAmount!: number;

  /** The UTC day (days since the epoch) `debitUsed` counts. */
  @Column({ name: 'debit_day', type: 'integer' })
  debitDay!: number;

  /** Debits counted toward the daily limit on `debitDay`. */
  @Column({ name: 'debit_used', type: 'bigint', transformer: bigintTransformer })
  debitUsed!: number;

  /**
   * A lower bound of the earliest expiry of the account's AUTHORIZED holds (NULL: none). A batch
   * that sees it passed expires what is due on the locked row before deciding anything.
   */
  @Column({
    name: 'next_hold_expires_at',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  nextHoldExpiresAt!: number | null;
}
