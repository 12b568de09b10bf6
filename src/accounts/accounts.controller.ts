import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountIdParamDto } from '../common/http/account-id-param.dto';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { Page, PageQueryDto } from '../common/http/pagination';
import { AccountsService } from './accounts.service';
import { BalanceQueryDto } from './dto/account-params.dto';
import { AccountDto, AccountPageDto, BalanceDto } from './dto/account.dto';
import { CreateAccountDto } from './dto/create-account.dto';

@ApiTags('accounts')
@Controller('accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open an account',
    description:
      'Creates an account with a client-chosen or generated id. A positive `initialDeposit` is booked as a DEPOSIT ledger entry in the same transaction. Ids are unique forever.',
  })
  @ApiSuccess(201, AccountDto, {
    accountId: 'acc-alice',
    currency: 'USD',
    balance: 10000,
    createdAt: 1763700000000,
  })
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'ACCOUNT_EXISTS'], { idempotent: true })
  create(@Body() dto: CreateAccountDto): Promise<AccountDto> {
    return this.accounts.create(dto);
  }

  @Get()
  @ApiOperation({
    summary: 'List accounts',
    description: 'Oldest first (creation time, then id). Cursor pagination.',
  })
  @ApiSuccess(200, AccountPageDto, {
    data: [{ accountId: 'acc-alice', currency: 'USD', balance: 10000, createdAt: 1763700000000 }],
    nextCursor: null,
  })
  @ApiProblems(['VALIDATION_FAILED'])
  list(@Query() query: PageQueryDto): Promise<Page<AccountDto>> {
    return this.accounts.list(query);
  }

  @Get(':accountId')
  @ApiOperation({
    summary: 'Get an account',
    description:
      'The account with its current balance (minor units) and creation time (epoch ms). 400 when the id does not match the accountId pattern, 404 when no such account exists.',
  })
  @ApiSuccess(200, AccountDto, {
    accountId: 'acc-alice',
    currency: 'USD',
    balance: 10000,
    createdAt: 1763700000000,
  })
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'])
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
    at: 1763700000000,
  })
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'])
  balance(
    @Param() params: AccountIdParamDto,
    @Query() query: BalanceQueryDto,
  ): Promise<BalanceDto> {
    return this.accounts.balance(params.accountId, query.at);
  }
}
