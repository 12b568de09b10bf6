import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../database/bigint.transformer';
import type { HoldStatus } from './engine/commands';

/**
 * A hold: funds reserved on an account, moved later by one capture, or released by a void or
 * by its expiry. Only ever changed under its account's row lock (then its own), so exactly one
 * of capture, void and expiry wins.
 */
@Entity({ name: 'holds' })
export class Hold {
  @PrimaryColumn({ name: 'hold_id', type: 'text' })
  holdId!: string;

  @Column({ name: 'account_id', type: 'text' })
  accountId!: string;

  /** Null: the capture is a payment; else a transfer to this account. */
  @Column({ name: 'target_account_id', type: 'text', nullable: true })
  targetAccountId!: string | null;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  amount!: number;

  @Column({ type: 'text' })
  status!: HoldStatus;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintTransformer })
  expiresAt!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintTransformer })
  createdAt!: number;

  @Column({ name: 'captured_amount', type: 'bigint', transformer: bigintTransformer })
  capturedAmount!: number;

  /** The capture's movement (the contract's `capture.transactionId`). */
  @Column({ name: 'capture_movement_id', type: 'uuid', nullable: true })
  captureMovementId!: string | null;

  @Column({ name: 'capture_payment_id', type: 'text', nullable: true })
  capturePaymentId!: string | null;

  @Column({
    name: 'capture_timestamp',
    type: 'bigint',
    nullable: true,
    transformer: bigintTransformer,
  })
  captureTimestamp!: number | null;

  /** When it stopped being AUTHORIZED (captured, voided, or its expiry time). */
  @Column({ name: 'resolved_at', type: 'bigint', nullable: true, transformer: bigintTransformer })
  resolvedAt!: number | null;
}
