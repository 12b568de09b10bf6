import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountIdParamDto } from '../common/http/account-id-param.dto';
import { ApiProblems, ApiSuccess, LINK_TO_TRANSACTION } from '../common/http/api-docs';
import { Page } from '../common/http/pagination';
import {
  CreateReversalDto,
  HistoryQueryDto,
  LedgerEntryDto,
  LedgerEntryPageDto,
  ReversalDto,
  TransactionDto,
  TransactionIdParamDto,
} from './dto/ledger-entry.dto';
import { LedgerQueries } from './ledger-queries.service';
import { MovementsService } from './movements.service';

/** acc-alice's history after the examples of POST /accounts, /deposits, /withdrawals, /transfers. */
const TRANSFER_ID = '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10';
const ALICE_ENTRY = {
  accountId: 'acc-alice',
  counterpartyAccountId: null,
  paymentId: null,
  reversedTransactionId: null,
};
const HISTORY_EXAMPLE = [
  {
    ...ALICE_ENTRY,
    entryId: '1',
    transactionId: '5f0c8a62-3d1e-4b8f-9a57-0c2e7d41b9a3',
    type: 'DEPOSIT',
    amount: 10000,
    balanceAfter: 10000,
    timestamp: 1763700000000,
  },
  {
    ...ALICE_ENTRY,
    entryId: '2',
    transactionId: '9d3b27c4-6a15-4e08-b2f1-7c84e0a5d6f2',
    type: 'DEPOSIT',
    amount: 2500,
    balanceAfter: 12500,
    timestamp: 1763700000300,
  },
  {
    ...ALICE_ENTRY,
    entryId: '3',
    transactionId: 'c71e4f08-2b9a-4d63-8e15-a3f6b0d29c47',
    type: 'WITHDRAWAL',
    amount: -2500,
    balanceAfter: 10000,
    timestamp: 1763700000400,
  },
  {
    ...ALICE_ENTRY,
    entryId: '4',
    transactionId: TRANSFER_ID,
    type: 'TRANSFER_OUT',
    amount: -1500,
    balanceAfter: 8500,
    timestamp: 1763700000500,
    counterpartyAccountId: 'acc-bob',
  },
];

/** The reversal example: 500 of the transfer above (acc-bob 1500 → 1000, acc-alice 8500 → 9000). */
const REVERSAL_ID = '6d2a8f41-9c3e-4b17-a5d0-e8f1b2c47a96';
const REVERSAL_ENTRY = {
  transactionId: REVERSAL_ID,
  type: 'REVERSAL',
  timestamp: 1763700000550,
  paymentId: null,
  reversedTransactionId: TRANSFER_ID,
};
const REVERSAL_EXAMPLE = {
  transactionId: REVERSAL_ID,
  type: 'REVERSAL',
  reversedTransactionId: TRANSFER_ID,
  amount: 500,
  entries: [
    {
      ...REVERSAL_ENTRY,
      entryId: '6',
      accountId: 'acc-bob',
      amount: -500,
      balanceAfter: 1000,
      counterpartyAccountId: 'acc-alice',
    },
    {
      ...REVERSAL_ENTRY,
      entryId: '7',
      accountId: 'acc-alice',
      amount: 500,
      balanceAfter: 9000,
      counterpartyAccountId: 'acc-bob',
    },
  ],
};

/**
 * GET /accounts/{accountId}/transactions, GET /transactions/{transactionId} and
 * POST /transactions/{transactionId}/reversals.
 */
@ApiTags('ledger')
@Controller()
export class TransactionsController {
  constructor(
    private readonly ledger: LedgerQueries,
    private readonly movements: MovementsService,
  ) {}

  @Get('accounts/:accountId/transactions')
  @ApiOperation({
    summary: "An account's ledger history",
    description:
      'Entries ordered by (timestamp, entryId) ascending; `timestamp` keeps only entries at or before it. Cursor pagination; the same query always returns the same entries in the same order.',
  })
  @ApiSuccess(200, LedgerEntryPageDto, { data: HISTORY_EXAMPLE, nextCursor: null })
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'], {
    invalid: {
      summary: 'timestamp is after 2^53−1',
      request: { path: { accountId: 'acc-alice' }, query: { timestamp: '9007199254740992' } },
      errors: [
        { field: 'timestamp', message: 'timestamp must not be greater than 9007199254740991' },
      ],
    },
  })
  history(
    @Param() params: AccountIdParamDto,
    @Query() query: HistoryQueryDto,
  ): Promise<Page<LedgerEntryDto>> {
    return this.ledger.history(params.accountId, query);
  }

  @Get('transactions/:transactionId')
  @ApiOperation({
    summary: 'One movement with all its entries',
    description:
      'A transfer has two entries (TRANSFER_OUT and TRANSFER_IN); other movements one. The `transactionId` is in the response of every movement (and in Swagger UI this field is filled in from the last one you executed on this page).',
  })
  @ApiSuccess(200, TransactionDto, {
    transactionId: TRANSFER_ID,
    type: 'TRANSFER',
    timestamp: 1763700000500,
    entries: [
      HISTORY_EXAMPLE[3],
      {
        ...HISTORY_EXAMPLE[3],
        entryId: '5',
        accountId: 'acc-bob',
        type: 'TRANSFER_IN',
        amount: 1500,
        balanceAfter: 1500,
        counterpartyAccountId: 'acc-alice',
      },
    ],
    reversedAmount: 0,
  })
  @ApiProblems(['TRANSACTION_NOT_FOUND'])
  transaction(@Param() params: TransactionIdParamDto): Promise<TransactionDto> {
    return this.ledger.transaction(params.transactionId);
  }

  @Post('transactions/:transactionId/reversals')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Reverse a deposit, withdrawal or transfer, in part or in full',
    description:
      'Books the opposite of the movement for `amount` (default: all that is left) as REVERSAL entries carrying `reversedTransactionId` (a transfer: the target is debited, the source credited, each entry with the counterparty of the original). Several partial reversals add up to at most the original amount; concurrent ones never exceed it. Payments are refunded instead (POST /payments/{paymentId}/refunds); cashbacks, refunds and reversals cannot be reversed. The balance rules apply as to any movement. In Swagger UI the id is filled in from the last transfer executed on this page.',
  })
  @ApiBody({ type: CreateReversalDto, required: false })
  @ApiSuccess(201, ReversalDto, REVERSAL_EXAMPLE, LINK_TO_TRANSACTION)
  @ApiProblems(
    [
      'VALIDATION_FAILED',
      'MALFORMED_JSON',
      'TRANSACTION_NOT_FOUND',
      'NOT_REVERSIBLE',
      'REVERSAL_EXCEEDS_REMAINING',
      'INSUFFICIENT_FUNDS',
      'BALANCE_LIMIT_EXCEEDED',
      'ACCOUNT_FROZEN',
      'ACCOUNT_CLOSED',
    ],
    {
      idempotent: true,
      invalid: {
        summary: 'amount is 0',
        request: { path: { transactionId: TRANSFER_ID }, body: { amount: 0 } },
        errors: [{ field: 'amount', message: 'amount must be at least 1' }],
      },
    },
  )
  reverse(
    @Param() params: TransactionIdParamDto,
    @Body() dto: CreateReversalDto,
  ): Promise<ReversalDto> {
    return this.movements.reverse(params.transactionId, dto.amount);
  }
}
