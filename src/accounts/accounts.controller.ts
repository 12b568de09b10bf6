import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AccountIdParamDto } from '../common/http/account-id-param.dto';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { Page, PageQueryDto } from '../common/http/pagination';
import { AccountsService } from './accounts.service';
import { BalanceQueryDto } from './dto/account-params.dto';
import { AccountDto, AccountPageDto, BalanceDto } from './dto/account.dto';
import { EmptyBodyDto } from '../common/http/empty-body.dto';
import { UpdateAccountDto } from './dto/account-controls.dto';
import { CreateAccountDto } from './dto/create-account.dto';

/**
 * The examples fit together down the page (Swagger UI, Portman): POST /accounts opens acc-alice
 * with 10000 (and, with its second example, acc-bob), which the later examples use.
 */
const CONTROLS = {
  status: 'ACTIVE',
  heldAmount: 0,
  overdraftLimit: 0,
  dailyDebitLimit: null,
} as const;
const ALICE = {
  accountId: 'acc-alice',
  currency: 'USD',
  balance: 10000,
  createdAt: 1763700000000,
  ...CONTROLS,
  availableBalance: 10000,
};
const BOB = {
  accountId: 'acc-bob',
  currency: 'USD',
  balance: 0,
  createdAt: 1763700000100,
  ...CONTROLS,
  availableBalance: 0,
};
/** acc-carol: the account the controls examples use (PATCH, freeze, unfreeze, close). */
const CAROL = {
  accountId: 'acc-carol',
  currency: 'USD',
  balance: 0,
  createdAt: 1763700000150,
  ...CONTROLS,
  overdraftLimit: 5000,
  dailyDebitLimit: 20000,
  availableBalance: 5000,
};
/** After the PATCH example, which the later controls examples follow. */
const CAROL_PATCHED = {
  ...CAROL,
  overdraftLimit: 10000,
  dailyDebitLimit: null,
  availableBalance: 10000,
};
/** The controls examples act on acc-carol, so the other examples keep acc-alice as they show. */
const CAROL_PARAM = ApiParam({ name: 'accountId', example: 'acc-carol' });
const CLOSED_CONFLICT = { statusOf: { ACCOUNT_CLOSED: 409 } } as const;
const INVALID_ACCOUNT_ID = {
  summary: 'accountId does not match the pattern',
  request: { path: { accountId: '-carol' } },
  errors: [{ field: 'accountId', message: 'accountId is not a valid account id' }],
};

@ApiTags('accounts')
@Controller('accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open an account',
    description:
      'Creates an account with a client-chosen or generated id. A positive `initialDeposit` is booked as a DEPOSIT ledger entry in the same transaction. Ids are unique forever. The body is optional: without one, a USD account with a generated id. Going down this page, execute both examples (acc-alice, then acc-bob from the Examples drop-down): the examples below use them.',
  })
  @ApiBody({
    type: CreateAccountDto,
    // Every field is optional: no body at all, or `{}`, opens a USD account with a new id. Not
    // an example here: the examples fit together down the page, and a third account would not.
    required: false,
    examples: {
      alice: {
        summary: 'acc-alice with 100.00 USD (the account the other examples use)',
        value: { accountId: 'acc-alice', currency: 'USD', initialDeposit: 10000 },
      },
      bob: {
        summary: 'acc-bob, empty (the target of the transfer example)',
        value: { accountId: 'acc-bob', currency: 'USD' },
      },
      carol: {
        summary: 'acc-carol, with an overdraft of 50.00 and a daily debit limit of 200.00',
        value: {
          accountId: 'acc-carol',
          currency: 'USD',
          overdraftLimit: 5000,
          dailyDebitLimit: 20000,
        },
      },
    },
  })
  @ApiSuccess(201, AccountDto, ALICE)
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'ACCOUNT_EXISTS'], {
    idempotent: true,
    invalid: {
      summary: 'currency is not an active ISO 4217 code',
      request: { body: { accountId: 'acc-alice', currency: 'XYZ' } },
      errors: [
        {
          field: 'currency',
          message:
            'currency must be an active ISO 4217 currency code in upper case, such as USD or EUR',
        },
      ],
    },
  })
  create(@Body() dto: CreateAccountDto): Promise<AccountDto> {
    return this.accounts.create(dto);
  }

  @Get()
  @ApiOperation({
    summary: 'List accounts',
    description: 'Oldest first (creation time, then id). Cursor pagination.',
  })
  @ApiSuccess(200, AccountPageDto, { data: [ALICE, BOB, CAROL], nextCursor: null })
  @ApiProblems(['VALIDATION_FAILED'], {
    invalid: {
      summary: 'limit below 1',
      request: { query: { limit: '0' } },
      errors: [{ field: 'limit', message: 'limit must not be less than 1' }],
    },
  })
  list(@Query() query: PageQueryDto): Promise<Page<AccountDto>> {
    return this.accounts.list(query);
  }

  @Get(':accountId')
  @ApiOperation({
    summary: 'Get an account',
    description:
      'The account with its current balance (minor units) and creation time (epoch ms). 400 when the id does not match the accountId pattern, 404 when no such account exists.',
  })
  @ApiSuccess(200, AccountDto, ALICE)
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'], {
    invalid: {
      summary: 'accountId does not match the pattern',
      request: { path: { accountId: '-alice' } },
      errors: [{ field: 'accountId', message: 'accountId is not a valid account id' }],
    },
  })
  get(@Param() params: AccountIdParamDto): Promise<AccountDto> {
    return this.accounts.get(params.accountId);
  }

  @Get(':accountId/balance')
  @ApiOperation({
    summary: 'Get the balance, now or at a past time',
    description:
      'Without `at`: the current balance, with `heldAmount` and `availableBalance`. With `at` (epoch ms): the balance after every entry whose timestamp ≤ at, read from the stored `balanceAfter` of the last such entry (`heldAmount` and `availableBalance` are then null).',
  })
  @ApiSuccess(200, BalanceDto, {
    accountId: 'acc-alice',
    currency: 'USD',
    balance: 10000,
    at: 1763700000200,
    heldAmount: 0,
    availableBalance: 10000,
  })
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'], {
    invalid: {
      summary: 'at is after 2^53−1',
      request: { path: { accountId: 'acc-alice' }, query: { at: '9007199254740992' } },
      errors: [{ field: 'at', message: 'at must not be greater than 9007199254740991' }],
    },
  })
  balance(
    @Param() params: AccountIdParamDto,
    @Query() query: BalanceQueryDto,
  ): Promise<BalanceDto> {
    return this.accounts.balance(params.accountId, query.at);
  }

  @Patch(':accountId')
  @CAROL_PARAM
  @ApiOperation({
    summary: "Change an account's limits",
    description:
      "Sets `overdraftLimit` and/or `dailyDebitLimit` (`null` removes the daily limit); at least one field. Decided under the same row lock as every movement. The overdraft limit cannot go below what the account already uses of it (LIMIT_BELOW_USAGE: `availableBalance` would be negative). A daily limit below today's usage is accepted and stops further debits today.",
  })
  @ApiBody({
    type: UpdateAccountDto,
    examples: {
      limits: {
        summary: 'acc-carol: overdraft 100.00, no daily limit',
        value: { overdraftLimit: 10000, dailyDebitLimit: null },
      },
    },
  })
  @ApiSuccess(200, AccountDto, CAROL_PATCHED)
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'ACCOUNT_NOT_FOUND',
      'ACCOUNT_CLOSED',
      'LIMIT_BELOW_USAGE',
    ],
    {
      ...CLOSED_CONFLICT,
      invalid: {
        summary: 'overdraftLimit is negative',
        request: { path: { accountId: 'acc-carol' }, body: { overdraftLimit: -1 } },
        errors: [{ field: 'overdraftLimit', message: 'overdraftLimit must not be negative' }],
      },
    },
  )
  update(@Param() params: AccountIdParamDto, @Body() dto: UpdateAccountDto): Promise<AccountDto> {
    return this.accounts.update(params.accountId, dto);
  }

  @Post(':accountId/freeze')
  @CAROL_PARAM
  @HttpCode(200)
  @ApiOperation({
    summary: 'Freeze an account',
    description:
      'A frozen account refuses every debit (ACCOUNT_FROZEN); deposits, incoming transfers, cashbacks, refunds and reversals that credit it still land, and so does the capture of a hold authorized before the freeze. Freezing a frozen account is a no-op 200.',
  })
  @ApiBody({ type: EmptyBodyDto, required: false, examples: { empty: { value: {} } } })
  @ApiSuccess(200, AccountDto, { ...CAROL_PATCHED, status: 'FROZEN' })
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED'], {
    ...CLOSED_CONFLICT,
    idempotent: true,
    invalid: INVALID_ACCOUNT_ID,
  })
  freeze(@Param() params: AccountIdParamDto, @Body() _body: EmptyBodyDto): Promise<AccountDto> {
    return this.accounts.changeStatus(params.accountId, 'freeze');
  }

  @Post(':accountId/unfreeze')
  @CAROL_PARAM
  @HttpCode(200)
  @ApiOperation({
    summary: 'Unfreeze an account',
    description: 'Back to ACTIVE. A no-op 200 on an active account.',
  })
  @ApiBody({ type: EmptyBodyDto, required: false, examples: { empty: { value: {} } } })
  @ApiSuccess(200, AccountDto, CAROL_PATCHED)
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED'], {
    ...CLOSED_CONFLICT,
    idempotent: true,
    invalid: INVALID_ACCOUNT_ID,
  })
  unfreeze(@Param() params: AccountIdParamDto, @Body() _body: EmptyBodyDto): Promise<AccountDto> {
    return this.accounts.changeStatus(params.accountId, 'unfreeze');
  }

  @Post(':accountId/close')
  @CAROL_PARAM
  @HttpCode(200)
  @ApiOperation({
    summary: 'Close an account, for good',
    description:
      'Only an empty account closes: balance 0, no AUTHORIZED hold, no cashback still pending (ACCOUNT_NOT_EMPTY says which). A closed account refuses every movement and every new hold, in either direction (ACCOUNT_CLOSED), stays readable forever, and its id is never reused.',
  })
  @ApiBody({ type: EmptyBodyDto, required: false, examples: { empty: { value: {} } } })
  @ApiSuccess(200, AccountDto, { ...CAROL_PATCHED, status: 'CLOSED' })
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'ACCOUNT_NOT_FOUND',
      'ACCOUNT_CLOSED',
      'ACCOUNT_NOT_EMPTY',
    ],
    { ...CLOSED_CONFLICT, idempotent: true, invalid: INVALID_ACCOUNT_ID },
  )
  close(@Param() params: AccountIdParamDto, @Body() _body: EmptyBodyDto): Promise<AccountDto> {
    return this.accounts.changeStatus(params.accountId, 'close');
  }
}
