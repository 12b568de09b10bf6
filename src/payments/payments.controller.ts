import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiProblems,
  ApiSuccess,
  LINK_TO_PAYMENT,
  LINK_TO_TRANSACTION,
} from '../common/http/api-docs';
import {
  CreatePaymentDto,
  PaymentCreatedDto,
  PaymentDto,
  PaymentIdParamDto,
} from './dto/payment.dto';
import { PaymentsService } from './payments.service';

/**
 * The first payment on a fresh database is payment1: the example pays from acc-alice, which the
 * earlier examples left with 8500.
 */
const PAYMENT_EXAMPLE = {
  paymentId: 'payment1',
  transactionId: '2e6d9b14-7c3a-4f85-a0d2-5b18e9c7f364',
  accountId: 'acc-alice',
  amount: 2500,
  cashbackAmount: 50,
  cashbackDueAt: 1763786400600,
  status: 'IN_PROGRESS',
  timestamp: 1763700000600,
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
    { ...PAYMENT_EXAMPLE, balance: 6000 },
    { ...LINK_TO_PAYMENT, ...LINK_TO_TRANSACTION },
  )
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'ACCOUNT_NOT_FOUND',
      'INSUFFICIENT_FUNDS',
      'DAILY_LIMIT_EXCEEDED',
      'ACCOUNT_FROZEN',
      'ACCOUNT_CLOSED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'amount is a string',
        request: { body: { accountId: 'acc-alice', amount: '2500' } },
        errors: [{ field: 'amount', message: 'amount must be an integer number of minor units' }],
      },
    },
  )
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
}
