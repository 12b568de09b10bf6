import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { IsAbsentOr } from '../../common/http/optional';
import { AccountAmountDto, Amount, AMOUNT_DOC } from '../../ledger/dto/movement.dto';
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
    example: 0,
    type: 'integer',
    description: 'Sum of its refunds (0 until refunded).',
  })
  refundedAmount!: number;

  @ApiProperty({
    example: 50,
    type: 'integer',
    description:
      'The current cashback: floor((amount − refundedAmount) × cashbackRateBps / 10000); 0 books no entry.',
  })
  cashbackAmount!: number;

  @ApiProperty({
    example: 200,
    type: 'integer',
    minimum: 0,
    maximum: 10000,
    description: 'The cashback rate in force when the payment was made, in basis points.',
  })
  cashbackRateBps!: number;

  @ApiProperty({
    example: 1763786400000,
    type: 'integer',
    description: 'timestamp + CASHBACK_DELAY_MS: the timestamp of the CASHBACK entry.',
  })
  cashbackDueAt!: number;

  @ApiProperty({
    enum: PAYMENT_STATUSES,
    example: 'IN_PROGRESS',
    description:
      'IN_PROGRESS until the cashback is credited, then CASHBACK_RECEIVED; REFUNDED (terminal) once fully refunded.',
  })
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
      refundedAmount: payment.refundedAmount,
      cashbackAmount: payment.cashbackAmount,
      cashbackRateBps: payment.cashbackRateBps,
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

/** `{ amount? }`: without an amount, all that is left of the payment is refunded. */
export class CreateRefundDto {
  @ApiPropertyOptional({
    ...AMOUNT_DOC,
    description: 'Integer minor units, 1 … 10^15. Default: all that is left to refund.',
    example: 1000,
  })
  @IsAbsentOr()
  @Amount()
  amount?: number;
}

export class RefundCreatedDto {
  @ApiProperty({ example: '7c1f0e2a-54b8-4d1e-9f3a-0b6d2c8e4a71', description: 'Opaque id.' })
  refundId!: string;

  @ApiProperty({ example: 'payment1' })
  paymentId!: string;

  @ApiProperty({
    example: '4a9e2c71-0d3b-4f68-8e15-b7c2a9d0e346',
    description: 'The movement that booked the REFUND (and any CASHBACK_REVERSAL) entry.',
  })
  transactionId!: string;

  @ApiProperty({ example: 1000, type: 'integer' })
  amount!: number;

  @ApiProperty({
    example: 0,
    type: 'integer',
    description:
      'The CASHBACK_REVERSAL booked with the refund: the cashback already credited minus the new cashbackAmount. 0 before the due time (the pending cashback shrinks instead).',
  })
  cashbackAdjustment!: number;

  @ApiProperty({ example: 7000, type: 'integer', description: 'Balance right after the refund.' })
  balance!: number;

  @ApiProperty({ type: PaymentDto, description: 'The payment after the refund.' })
  payment!: PaymentDto;
}
