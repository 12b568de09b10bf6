import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiProblems,
  ApiSuccess,
  DEBIT_PROBLEMS,
  LINK_TO_REVERSAL,
  LINK_TO_TRANSACTION,
} from '../common/http/api-docs';
import {
  AccountAmountDto,
  SingleAccountMovementDto,
  TransferDto,
  TransferResultDto,
} from './dto/movement.dto';
import { MovementsService } from './movements.service';

const EXAMPLE_ID = '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10';

/**
 * The examples continue those of POST /accounts (acc-alice opened with 10000, acc-bob empty):
 * deposit 2500 (12500), withdraw 2500 (10000), transfer 1500 to acc-bob (8500 and 1500).
 */
const AMOUNT_MESSAGE = 'amount must be at least 1';

/** POST /deposits, POST /withdrawals, POST /transfers. */
@ApiTags('ledger')
@Controller()
export class MovementsController {
  constructor(private readonly movements: MovementsService) {}

  @Post('deposits')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Deposit money',
    description: 'Credits the account and books a DEPOSIT entry. Returns the balance right after.',
  })
  @ApiSuccess(
    201,
    SingleAccountMovementDto,
    {
      transactionId: EXAMPLE_ID,
      type: 'DEPOSIT',
      accountId: 'acc-alice',
      amount: 2500,
      balance: 12500,
      timestamp: 1763700000300,
    },
    LINK_TO_TRANSACTION,
  )
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'ACCOUNT_NOT_FOUND',
      'BALANCE_LIMIT_EXCEEDED',
      'ACCOUNT_CLOSED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'amount is 0',
        request: { body: { accountId: 'acc-alice', amount: 0 } },
        errors: [{ field: 'amount', message: AMOUNT_MESSAGE }],
      },
    },
  )
  deposit(@Body() dto: AccountAmountDto): Promise<SingleAccountMovementDto> {
    return this.movements.deposit(dto);
  }

  @Post('withdrawals')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Withdraw money',
    description: 'Debits the account and books a WITHDRAWAL entry. Never overdraws.',
  })
  @ApiSuccess(
    201,
    SingleAccountMovementDto,
    {
      transactionId: EXAMPLE_ID,
      type: 'WITHDRAWAL',
      accountId: 'acc-alice',
      amount: 2500,
      balance: 10000,
      timestamp: 1763700000400,
    },
    LINK_TO_TRANSACTION,
  )
  @ApiProblems([...DEBIT_PROBLEMS], {
    idempotent: true,
    invalid: {
      summary: 'accountId does not match the pattern',
      request: { body: { accountId: 'acc alice', amount: 2500 } },
      errors: [{ field: 'accountId', message: 'accountId is not a valid account id' }],
    },
  })
  withdraw(@Body() dto: AccountAmountDto): Promise<SingleAccountMovementDto> {
    return this.movements.withdraw(dto);
  }

  @Post('transfers')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Transfer between two accounts',
    description:
      'Books TRANSFER_OUT (negative) on the source and TRANSFER_IN (positive) on the target under one transactionId, atomically. Both accounts must hold the same currency.',
  })
  @ApiSuccess(
    201,
    TransferResultDto,
    {
      transactionId: EXAMPLE_ID,
      type: 'TRANSFER',
      sourceAccountId: 'acc-alice',
      targetAccountId: 'acc-bob',
      amount: 1500,
      sourceBalance: 8500,
      targetBalance: 1500,
      timestamp: 1763700000500,
    },
    { ...LINK_TO_TRANSACTION, ...LINK_TO_REVERSAL },
  )
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'ACCOUNT_NOT_FOUND',
      'SAME_ACCOUNT',
      'DAILY_LIMIT_EXCEEDED',
      'ACCOUNT_FROZEN',
      'ACCOUNT_CLOSED',
      'INSUFFICIENT_FUNDS',
      'CURRENCY_MISMATCH',
      'BALANCE_LIMIT_EXCEEDED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'targetAccountId missing, amount 0',
        request: { body: { sourceAccountId: 'acc-alice', amount: 0 } },
        errors: [
          { field: 'targetAccountId', message: 'targetAccountId is required' },
          { field: 'amount', message: 'amount must be at least 1' },
        ],
      },
    },
  )
  transfer(@Body() dto: TransferDto): Promise<TransferResultDto> {
    return this.movements.transfer(dto);
  }
}
