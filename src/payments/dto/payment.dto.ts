import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { AccountAmountDto } from '../../ledger/dto/movement.dto';
import { PAYMENT_STATUSES, type PaymentStatus } from '../cashback';
import type { Payment } from '../payment.entity';

/** `{ accountId, amount }`, validated exactly like a deposit or a withdrawal. */
export class CreatePaymentDto extends AccountAmountDto {}

/**
 * Any string: an id that is malformed or unknown is answered alike, 404 PAYMENT_NOT_FOUND
 * (the contract has no 400 for this route).
 */
export class PaymentIdParamDto {
  @ApiProperty({ example: 'payment1', pattern: '^payment[1-9][0-9]*$' })
  @IsString()
  paymentId!: string;
}

export class PaymentDto {
  @ApiProperty({ example: 'payment1', description: '`payment` + a number from one sequence.' })
  paymentId!: string;

  @ApiProperty({
    example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10',
    description: 'The movement that booked the PAYMENT entry.',
  })
  transactionId!: string;

  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 2500, type: 'integer' })
  amount!: number;

  @ApiProperty({
    example: 50,
    type: 'integer',
    description: 'floor(amount × CASHBACK_RATE_BPS / 10000); 0 books no entry.',
  })
  cashbackAmount!: number;

  @ApiProperty({
    example: 1763786400000,
    type: 'integer',
    description: 'timestamp + CASHBACK_DELAY_MS: the timestamp of the CASHBACK entry.',
  })
  cashbackDueAt!: number;

  @ApiProperty({ enum: PAYMENT_STATUSES, example: 'IN_PROGRESS' })
  status!: PaymentStatus;

  @ApiProperty({ example: 1763700000000, type: 'integer' })
  timestamp!: number;

  /** The public Payment: GET /payments/{id} and the data of the payment events. */
  static from(this: void, payment: Payment, status: PaymentStatus): PaymentDto {
    return {
      paymentId: payment.paymentId,
      transactionId: payment.movementId,
      accountId: payment.accountId,
      amount: payment.amount,
      cashbackAmount: payment.cashbackAmount,
      cashbackDueAt: payment.cashbackDueAt,
      status,
      timestamp: payment.timestamp,
    };
  }
}

export class PaymentCreatedDto extends PaymentDto {
  @ApiProperty({ example: 6000, type: 'integer', description: 'Balance right after the debit.' })
  balance!: number;
}
