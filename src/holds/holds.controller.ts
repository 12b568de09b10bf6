import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags, type LinksObject } from '@nestjs/swagger';
import { AccountIdParamDto } from '../common/http/account-id-param.dto';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { EmptyBodyDto } from '../common/http/empty-body.dto';
import { Page } from '../common/http/pagination';
import {
  CaptureHoldDto,
  CreateHoldDto,
  HoldCapturedDto,
  HoldDto,
  HoldIdParamDto,
  HoldPageDto,
  HoldsQueryDto,
} from './dto/hold.dto';
import { HoldsService } from './holds.service';

/**
 * The examples continue the page (acc-alice holds 6000 and acc-bob 1500 by now): POST /holds
 * reserves 3000 of alice's as a payment hold, then (second example) 1000 for bob; the page's
 * links then fill in the transfer hold for GET and capture, and the list's oldest hold, the
 * payment hold, for the void.
 */
const CREATED_AT = 1763700000800;
const PAYMENT_HOLD = {
  holdId: 'hold_3f2a9c1e5b7d4e8fa1c2d3e4f5a6b7c8',
  accountId: 'acc-alice',
  targetAccountId: null,
  amount: 3000,
  status: 'AUTHORIZED',
  expiresAt: CREATED_AT + 604_800_000,
  createdAt: CREATED_AT,
  capturedAmount: 0,
  capture: null,
};
const TRANSFER_HOLD = {
  ...PAYMENT_HOLD,
  holdId: 'hold_0b8e6f3a8a4e4a539d7c2f3b1c9e5a10',
  targetAccountId: 'acc-bob',
  amount: 1000,
  expiresAt: CREATED_AT + 100 + 3_600_000,
  createdAt: CREATED_AT + 100,
};
const CAPTURED_TRANSFER_HOLD = {
  ...TRANSFER_HOLD,
  status: 'CAPTURED',
  capturedAmount: 1000,
  capture: {
    transactionId: '7a338181-0f1e-4f4e-9b5a-2d6c8e0f1a2b',
    amount: 1000,
    paymentId: null,
    timestamp: CREATED_AT + 200,
  },
};

const HOLD_LINKS: LinksObject = {
  GetHold: {
    operationId: 'HoldsController_get',
    parameters: { holdId: '$response.body#/holdId' },
    description: 'The hold: GET /holds/{holdId}.',
  },
  CaptureHold: {
    operationId: 'HoldsController_capture',
    parameters: { holdId: '$response.body#/holdId' },
    description: 'Capture it: POST /holds/{holdId}/capture.',
  },
};
const VOID_OLDEST: LinksObject = {
  VoidHold: {
    operationId: 'HoldsController_void',
    parameters: { holdId: '$response.body#/data/0/holdId' },
    description: 'Void the oldest hold listed: POST /holds/{holdId}/void.',
  },
};
const INVALID_HOLD_ID = {
  summary: 'holdId is not a hold id',
  request: { path: { holdId: 'hold-1' } },
  errors: [{ field: 'holdId', message: 'holdId is not a valid hold id' }],
};

/** POST /holds, GET /holds/{holdId}, capture, void, GET /accounts/{accountId}/holds. */
@ApiTags('holds')
@Controller()
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @Post('holds')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Authorize a hold',
    description:
      'Reserves `amount` on the account now: it books no entry, but lowers `availableBalance` (through `heldAmount`) and counts toward the daily debit limit, with the same checks as a debit. Later, exactly one of capture, void and expiry (`expiresInMs`, default 7 days) ends it. Without `targetAccountId` the capture is a payment (with cashback); with one, a transfer to it.',
  })
  @ApiBody({
    type: CreateHoldDto,
    examples: {
      payment: {
        summary: 'Reserve 30.00 of acc-alice for a payment',
        value: { accountId: 'acc-alice', amount: 3000 },
      },
      transfer: {
        summary: 'Reserve 10.00 of acc-alice for acc-bob, for an hour',
        value: {
          accountId: 'acc-alice',
          amount: 1000,
          targetAccountId: 'acc-bob',
          expiresInMs: 3600000,
        },
      },
    },
  })
  @ApiSuccess(201, HoldDto, PAYMENT_HOLD, HOLD_LINKS)
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'ACCOUNT_NOT_FOUND',
      'INSUFFICIENT_FUNDS',
      'SAME_ACCOUNT',
      'CURRENCY_MISMATCH',
      'DAILY_LIMIT_EXCEEDED',
      'ACCOUNT_FROZEN',
      'ACCOUNT_CLOSED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'expiresInMs is over 30 days',
        request: { body: { accountId: 'acc-alice', amount: 3000, expiresInMs: 2592000001 } },
        errors: [
          { field: 'expiresInMs', message: 'expiresInMs must not be greater than 2592000000' },
        ],
      },
    },
  )
  create(@Body() dto: CreateHoldDto): Promise<HoldDto> {
    return this.holds.authorize(dto);
  }

  @Get('holds/:holdId')
  @ApiOperation({
    summary: 'Get a hold',
    description:
      'As of now: a hold whose `expiresAt` has come is EXPIRED and its amount released, whether or not anything touched it.',
  })
  @ApiSuccess(200, HoldDto, TRANSFER_HOLD)
  @ApiProblems(['VALIDATION_FAILED', 'HOLD_NOT_FOUND'], { invalid: INVALID_HOLD_ID })
  get(@Param() params: HoldIdParamDto): Promise<HoldDto> {
    return this.holds.get(params.holdId);
  }

  @Post('holds/:holdId/capture')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Capture a hold',
    description:
      'Moves `amount` (default: the whole hold) of the reserved funds, once, and releases the rest: a payment (PAYMENT entry, paymentId, cashback as POST /payments) for a hold without a target, a transfer (TRANSFER_OUT/TRANSFER_IN) otherwise. It uses the funds its hold reserved: never refused for funds, the daily limit or a freeze of the held account (it still counts toward the day). Of concurrent captures and voids of one hold, exactly one succeeds.',
  })
  @ApiBody({
    type: CaptureHoldDto,
    required: false,
    examples: { whole: { summary: 'Capture the whole hold', value: {} } },
  })
  @ApiSuccess(201, HoldCapturedDto, {
    hold: CAPTURED_TRANSFER_HOLD,
    transactionId: CAPTURED_TRANSFER_HOLD.capture.transactionId,
    balance: 6500,
    paymentId: null,
  })
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'HOLD_NOT_FOUND',
      'HOLD_NOT_ACTIVE',
      'CAPTURE_EXCEEDS_HOLD',
      'BALANCE_LIMIT_EXCEEDED',
      'ACCOUNT_CLOSED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'amount is 0',
        request: { path: { holdId: TRANSFER_HOLD.holdId }, body: { amount: 0 } },
        errors: [{ field: 'amount', message: 'amount must be at least 1' }],
      },
    },
  )
  capture(@Param() params: HoldIdParamDto, @Body() dto: CaptureHoldDto): Promise<HoldCapturedDto> {
    return this.holds.capture(params.holdId, dto);
  }

  @Get('accounts/:accountId/holds')
  @ApiOperation({
    summary: "List an account's holds",
    description:
      'Oldest first (creation time, then id), optionally only those in one `status`. Cursor pagination. Expired holds show as EXPIRED.',
  })
  @ApiSuccess(
    200,
    HoldPageDto,
    { data: [PAYMENT_HOLD, CAPTURED_TRANSFER_HOLD], nextCursor: null },
    VOID_OLDEST,
  )
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'], {
    invalid: {
      summary: 'status is not a hold status',
      request: { path: { accountId: 'acc-alice' }, query: { status: 'PENDING' } },
      errors: [
        { field: 'status', message: 'status must be one of AUTHORIZED, CAPTURED, VOIDED, EXPIRED' },
      ],
    },
  })
  list(@Param() params: AccountIdParamDto, @Query() query: HoldsQueryDto): Promise<Page<HoldDto>> {
    return this.holds.list(params.accountId, query);
  }

  @Post('holds/:holdId/void')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Void a hold',
    description:
      'Releases the whole hold; nothing is booked. Of concurrent captures and voids of one hold, exactly one succeeds.',
  })
  @ApiBody({ type: EmptyBodyDto, required: false, examples: { empty: { value: {} } } })
  @ApiSuccess(200, HoldDto, { ...PAYMENT_HOLD, status: 'VOIDED' })
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'HOLD_NOT_FOUND', 'HOLD_NOT_ACTIVE'], {
    idempotent: true,
    invalid: INVALID_HOLD_ID,
  })
  void(@Param() params: HoldIdParamDto, @Body() _body: EmptyBodyDto): Promise<HoldDto> {
    return this.holds.void(params.holdId);
  }
}
