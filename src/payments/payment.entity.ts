import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../database/bigint.transformer';

/**
 * A payment as it was made, with what its refunds changed (`refundedAmount`, the current
 * `cashbackAmount`). Its cashback's state (pending or credited) is the ledger's scheduled
 * credit with `reference = paymentId`.
 */
@Entity({ name: 'payments' })
export class Payment {
  @PrimaryColumn({ name: 'payment_id', type: 'text' })
  paymentId!: string;

  /** The contract's `transactionId` of the PAYMENT movement. */
  @Column({ name: 'movement_id', type: 'uuid' })
  movementId!: string;

  @Column({ name: 'account_id', type: 'text' })
  accountId!: string;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  /** The current cashback: floor((amount − refundedAmount) × cashbackRateBps / 10000). */
  @Column({ name: 'cashback_amount', type: 'bigint', transformer: bigintTransformer })
  cashbackAmount!: number;

  /** The cashback rate in force when the payment was made; it never changes. */
  @Column({ name: 'cashback_rate_bps', type: 'integer' })
  cashbackRateBps!: number;

  @Column({ name: 'refunded_amount', type: 'bigint', transformer: bigintTransformer })
  refundedAmount!: number;

  @Column({ name: 'cashback_due_at', type: 'bigint', transformer: bigintTransformer })
  cashbackDueAt!: number;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  timestamp!: number;
}
