import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../database/bigint.transformer';

/**
 * A credit the ledger owes an account at a due time, booked then as one entry of `entryType`
 * (e.g. a payment's cashback). Pending while `settledAt` is NULL. Only ever settled under its
 * account's row lock, so it is booked exactly once however many instances run.
 */
@Entity({ name: 'scheduled_credits' })
export class ScheduledCredit {
  /** The id of what scheduled it (a payment id); also the entry's `paymentId`. */
  @PrimaryColumn({ type: 'text' })
  reference!: string;

  @Column({ name: 'account_id', type: 'text' })
  accountId!: string;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  @Column({ name: 'due_at', type: 'bigint', transformer: bigintTransformer })
  dueAt!: number;

  @Column({ name: 'entry_type', type: 'text' })
  entryType!: 'CASHBACK';

  @Column({ name: 'settled_at', type: 'bigint', nullable: true, transformer: bigintTransformer })
  settledAt!: number | null;

  /** The movement that booked it (NULL while pending, or when it was 0 and booked nothing). */
  @Column({ name: 'movement_id', type: 'uuid', nullable: true })
  movementId!: string | null;
}
