import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../database/bigint.transformer';

/** One refund of a payment, written by the ledger engine in the refund's own batch. */
@Entity({ name: 'payment_refunds' })
export class PaymentRefund {
  @PrimaryColumn({ name: 'refund_id', type: 'uuid' })
  refundId!: string;

  @Column({ name: 'payment_id', type: 'text' })
  paymentId!: string;

  /** The contract's `transactionId` of the REFUND movement. */
  @Column({ name: 'movement_id', type: 'uuid' })
  movementId!: string;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  /** The CASHBACK_REVERSAL booked with it (0 before the cashback was credited). */
  @Column({ name: 'cashback_adjustment', type: 'bigint', transformer: bigintTransformer })
  cashbackAdjustment!: number;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  timestamp!: number;
}
