import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountIdParamDto } from '../common/http/account-id-param.dto';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { Page } from '../common/http/pagination';
import {
  HistoryQueryDto,
  LedgerEntryDto,
  LedgerEntryPageDto,
  TransactionDto,
  TransactionIdParamDto,
} from './dto/ledger-entry.dto';
import { LedgerQueries } from './ledger-queries.service';

const ENTRY_EXAMPLE = {
  entryId: '1042',
  transactionId: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10',
  accountId: 'acc-alice',
  type: 'TRANSFER_OUT',
  amount: -1500,
  balanceAfter: 11000,
  timestamp: 1763700000000,
  counterpartyAccountId: 'acc-bob',
  paymentId: null,
};

/** GET /accounts/{accountId}/transactions and GET /transactions/{transactionId}. */
@ApiTags('ledger')
@Controller()
export class TransactionsController {
  constructor(private readonly ledger: LedgerQueries) {}

  @Get('accounts/:accountId/transactions')
  @ApiOperation({
    summary: "An account's ledger history",
    description:
      'Entries ordered by (timestamp, entryId) ascending; `timestamp` keeps only entries at or before it. Cursor pagination; the same query always returns the same entries in the same order.',
  })
  @ApiSuccess(200, LedgerEntryPageDto, { data: [ENTRY_EXAMPLE], nextCursor: null })
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'])
  history(
    @Param() params: AccountIdParamDto,
    @Query() query: HistoryQueryDto,
  ): Promise<Page<LedgerEntryDto>> {
    return this.ledger.history(params.accountId, query);
  }

  @Get('transactions/:transactionId')
  @ApiOperation({
    summary: 'One movement with all its entries',
    description: 'A transfer has two entries (TRANSFER_OUT and TRANSFER_IN); other movements one.',
  })
  @ApiSuccess(200, TransactionDto, {
    transactionId: ENTRY_EXAMPLE.transactionId,
    type: 'TRANSFER',
    timestamp: 1763700000000,
    entries: [
      ENTRY_EXAMPLE,
      {
        ...ENTRY_EXAMPLE,
        entryId: '1043',
        accountId: 'acc-bob',
        type: 'TRANSFER_IN',
        amount: 1500,
        balanceAfter: 1500,
        counterpartyAccountId: 'acc-alice',
      },
    ],
  })
  @ApiProblems(['TRANSACTION_NOT_FOUND'])
  transaction(@Param() params: TransactionIdParamDto): Promise<TransactionDto> {
    return this.ledger.transaction(params.transactionId);
  }
}
