import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountIdParamDto } from '../common/http/account-id-param.dto';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { Page, PageQueryDto } from '../common/http/pagination';
import { AccountsService } from './accounts.service';
import { BalanceQueryDto } from './dto/account-params.dto';
import { AccountDto, AccountPageDto, BalanceDto } from './dto/account.dto';
import { CreateAccountDto } from './dto/create-account.dto';

/**
 * The examples fit together down the page (Swagger UI, Portman): POST /accounts opens acc-alice
 * with 10000 (and, with its second example, acc-bob), which the later examples use.
 */
const ALICE = { accountId: 'acc-alice', currency: 'USD', balance: 10000, createdAt: 1763700000000 };
const BOB = { accountId: 'acc-bob', currency: 'USD', balance: 0, createdAt: 1763700000100 };

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
  @ApiSuccess(200, AccountPageDto, { data: [ALICE, BOB], nextCursor: null })
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
      'Without `at`: the current balance. With `at` (epoch ms): the balance after every entry whose timestamp ≤ at, read from the stored `balanceAfter` of the last such entry.',
  })
  @ApiSuccess(200, BalanceDto, {
    accountId: 'acc-alice',
    currency: 'USD',
    balance: 10000,
    at: 1763700000200,
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
}
