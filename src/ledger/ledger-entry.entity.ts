import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintTransformer } from '../database/bigint.transformer';

export const ENTRY_TYPES = [
  'DEPOSIT',
  'WITHDRAWAL',
  'TRANSFER_OUT',
  'TRANSFER_IN',
  'PAYMENT',
  'CASHBACK',
  'REFUND',
  'CASHBACK_REVERSAL',
  'REVERSAL',
] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/**
 * One row of the append-only ledger (table `ledger_transactions`, the product's original name).
 * The row id is the contract's `entryId`; `movementId` groups the entries of one movement and
 * is the contract's `transactionId`.
 */
@Entity({ name: 'ledger_transactions' })
export class LedgerEntry {
  /** BIGSERIAL, kept as the driver's string: it is an opaque id, never arithmetic. */
  @PrimaryGeneratedColumn('increment', { name: 'transaction_id', type: 'bigint' })
  entryId!: string;

  @Column({ name: 'movement_id', type: 'uuid' })
  movementId!: string;

  @Column({ name: 'account_id', type: 'text' })
  accountId!: string;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  timestamp!: number;

  @Column({ name: 'operation', type: 'text' })
  type!: EntryType;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  @Column({ name: 'balance_after', type: 'bigint', transformer: bigintTransformer })
  balanceAfter!: number;

  @Column({ name: 'counterparty_account_id', type: 'text', nullable: true })
  counterpartyAccountId!: string | null;

  @Column({ name: 'payment_ref', type: 'text', nullable: true })
  paymentId!: string | null;

  /** Set on REVERSAL entries only: the movement they (partly) undo. */
  @Column({ name: 'reversed_transaction_id', type: 'uuid', nullable: true })
  reversedTransactionId!: string | null;
}
