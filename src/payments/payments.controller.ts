import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiProblems,
  ApiSuccess,
  DEBIT_PROBLEMS,
  LINK_TO_PAYMENT,
  LINK_TO_REFUND,
  LINK_TO_TRANSACTION,
} from '../common/http/api-docs';
import {
  CreatePaymentDto,
  CreateRefundDto,
  PaymentCreatedDto,
  PaymentDto,
  PaymentIdParamDto,
  RefundCreatedDto,
} from './dto/payment.dto';
import { PaymentsService } from './payments.service';

/**
 * The first payment on a fresh database is payment1: the example pays from acc-alice, which the
 * earlier examples left with 9000 (after the reversal of 500 of the transfer).
 */
const PAYMENT_EXAMPLE = {
  paymentId: 'payment1',
  transactionId: '2e6d9b14-7c3a-4f85-a0d2-5b18e9c7f364',
  accountId: 'acc-alice',
  amount: 2500,
  refundedAmount: 0,
  cashbackAmount: 50,
  cashbackRateBps: 200,
  cashbackDueAt: 1763786400600,
  status: 'IN_PROGRESS',
  timestamp: 1763700000600,
};

/** A refund of 1000 before the due time: the pending cashback shrinks to 2 % of 1500. */
const REFUND_EXAMPLE = {
  refundId: '7c1f0e2a-54b8-4d1e-9f3a-0b6d2c8e4a71',
  paymentId: 'payment1',
  transactionId: '4a9e2c71-0d3b-4f68-8e15-b7c2a9d0e346',
  amount: 1000,
  cashbackAdjustment: 0,
  balance: 7500,
  payment: { ...PAYMENT_EXAMPLE, refundedAmount: 1000, cashbackAmount: 30 },
};

/** POST /payments and GET /payments/{paymentId}. */
@ApiTags('payments')
@Controller('payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Pay from an account',
    description:
      'Debits the account (a PAYMENT entry) and schedules a cashback of floor(amount × CASHBACK_RATE_BPS / 10000), credited as a CASHBACK entry at cashbackDueAt = timestamp + CASHBACK_DELAY_MS, exactly once. Returns the payment, IN_PROGRESS, with the balance right after the debit.',
  })
  @ApiSuccess(
    201,
    PaymentCreatedDto,
    { ...PAYMENT_EXAMPLE, balance: 6500 },
    { ...LINK_TO_PAYMENT, ...LINK_TO_TRANSACTION, ...LINK_TO_REFUND },
  )
  @ApiProblems([...DEBIT_PROBLEMS], {
    idempotent: true,
    invalid: {
      summary: 'amount is a string',
      request: { body: { accountId: 'acc-alice', amount: '2500' } },
      errors: [{ field: 'amount', message: 'amount must be an integer number of minor units' }],
    },
  })
  create(@Body() dto: CreatePaymentDto): Promise<PaymentCreatedDto> {
    return this.payments.create(dto);
  }

  @Get(':paymentId')
  @ApiOperation({
    summary: 'Get a payment and its cashback status',
    description:
      'IN_PROGRESS until the cashback is credited, CASHBACK_RECEIVED from cashbackDueAt on (a request starting after the due time always sees it credited). Payment ids are `payment1`, `payment2`, …; in Swagger UI this field is filled in from the last payment you executed on this page.',
  })
  @ApiSuccess(200, PaymentDto, PAYMENT_EXAMPLE)
  @ApiProblems(['PAYMENT_NOT_FOUND'])
  get(@Param() params: PaymentIdParamDto): Promise<PaymentDto> {
    return this.payments.get(params.paymentId);
  }

  @Post(':paymentId/refunds')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Refund a payment, in part or in full',
    description:
      'Credits `amount` (default: all that is left) back as a REFUND entry and lowers the cashback to floor((amount − refundedAmount) × cashbackRateBps / 10000). Before the due time the pending cashback simply shrinks (`cashbackAdjustment` 0); once it was credited, the difference is debited in the same transaction as a CASHBACK_REVERSAL entry (`cashbackAdjustment`). A refund never lowers the balance. A fully refunded payment is REFUNDED (terminal) and never credits a cashback. Concurrent refunds never exceed the payment.',
  })
  @ApiBody({ type: CreateRefundDto, required: false })
  @ApiSuccess(201, RefundCreatedDto, REFUND_EXAMPLE, { ...LINK_TO_PAYMENT, ...LINK_TO_TRANSACTION })
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'PAYMENT_NOT_FOUND',
      'PAYMENT_FULLY_REFUNDED',
      'REFUND_EXCEEDS_PAYMENT',
      'BALANCE_LIMIT_EXCEEDED',
      'ACCOUNT_CLOSED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'amount is a fraction',
        request: { path: { paymentId: 'payment1' }, body: { amount: 10.5 } },
        errors: [{ field: 'amount', message: 'amount must be an integer number of minor units' }],
      },
    },
  )
  refund(
    @Param() params: PaymentIdParamDto,
    @Body() dto: CreateRefundDto,
  ): Promise<RefundCreatedDto> {
    return this.payments.refund(params.paymentId, dto.amount);
  }
}
