import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import {
  CreatePaymentDto,
  PaymentCreatedDto,
  PaymentDto,
  PaymentIdParamDto,
} from './dto/payment.dto';
import { PaymentsService } from './payments.service';

const PAYMENT_EXAMPLE = {
  paymentId: 'payment42',
  transactionId: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10',
  accountId: 'acc-alice',
  amount: 2500,
  cashbackAmount: 50,
  cashbackDueAt: 1763786400000,
  status: 'IN_PROGRESS',
  timestamp: 1763700000000,
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
  @ApiSuccess(201, PaymentCreatedDto, { ...PAYMENT_EXAMPLE, balance: 7500 })
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'ACCOUNT_NOT_FOUND', 'INSUFFICIENT_FUNDS'], {
    idempotent: true,
  })
  create(@Body() dto: CreatePaymentDto): Promise<PaymentCreatedDto> {
    return this.payments.create(dto);
  }

  @Get(':paymentId')
  @ApiOperation({
    summary: 'Get a payment and its cashback status',
    description:
      'IN_PROGRESS until the cashback is credited, CASHBACK_RECEIVED from cashbackDueAt on (a request starting after the due time always sees it credited).',
  })
  @ApiSuccess(200, PaymentDto, { ...PAYMENT_EXAMPLE, status: 'CASHBACK_RECEIVED' })
  @ApiProblems(['PAYMENT_NOT_FOUND'])
  get(@Param() params: PaymentIdParamDto): Promise<PaymentDto> {
    return this.payments.get(params.paymentId);
  }
}
