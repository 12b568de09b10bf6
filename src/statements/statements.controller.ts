import { Controller, Get, Header, Headers, Param, Query, StreamableFile } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiProblems } from '../common/http/api-docs';
import { StatementParamsDto, StatementQueryDto } from './dto/statement-query.dto';
import { LedgerEntryDto } from '../ledger/dto/ledger-entry.dto';
import { StatementDto, StatementSummaryDto } from './dto/statement.dto';
import { CSV_COLUMNS, MEDIA_TYPE } from './statement-format';
import { StatementsService } from './statements.service';

/**
 * acc-alice's statement at this point of the page's examples (after the reversal, the payment
 * and the refund above).
 */
const entry = (
  entryId: string,
  type: string,
  amount: number,
  balanceAfter: number,
  more: { counterpartyAccountId?: string; paymentId?: string; reversedTransactionId?: string } = {},
) => ({
  entryId,
  transactionId: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10',
  accountId: 'acc-alice',
  type,
  amount,
  balanceAfter,
  timestamp: 1763700000000,
  counterpartyAccountId: more.counterpartyAccountId ?? null,
  paymentId: more.paymentId ?? null,
  reversedTransactionId: more.reversedTransactionId ?? null,
});
const ENTRIES_EXAMPLE = [
  entry('1', 'DEPOSIT', 10000, 10000),
  entry('2', 'DEPOSIT', 2500, 12500),
  entry('3', 'WITHDRAWAL', -2500, 10000),
  entry('4', 'TRANSFER_OUT', -1500, 8500, { counterpartyAccountId: 'acc-bob' }),
  entry('7', 'REVERSAL', 500, 9000, {
    counterpartyAccountId: 'acc-bob',
    reversedTransactionId: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10',
  }),
  entry('8', 'PAYMENT', -2500, 6500, { paymentId: 'payment1' }),
  entry('9', 'REFUND', 1000, 7500, { paymentId: 'payment1' }),
];
const ENTRY_EXAMPLE = ENTRIES_EXAMPLE[3];
const SUMMARY_EXAMPLE = {
  accountId: 'acc-alice',
  currency: 'USD',
  from: 1763600000000,
  to: 1763786400000,
  openingBalance: 0,
  closingBalance: 7500,
  totalCredits: 14000,
  totalDebits: 6500,
  entryCount: 7,
};
const CSV_EXAMPLE =
  `${CSV_COLUMNS.join(',')}\r\n` +
  '4,0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10,1763700000000,TRANSFER_OUT,-1500,8500,acc-bob,,\r\n';
const NDJSON_EXAMPLE = `${JSON.stringify(SUMMARY_EXAMPLE)}\n${JSON.stringify(ENTRY_EXAMPLE)}\n`;

@ApiTags('statements')
@Controller('accounts')
export class StatementsController {
  constructor(private readonly statements: StatementsService) {}

  @Get(':accountId/statement')
  @Header('Vary', 'Accept')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'An account statement for a time range (JSON, CSV or NDJSON)',
    description:
      "Entries with `from ≤ timestamp < to` in history order (timestamp, entryId), with the opening balance (after the last entry before `from`, 0 if none) and the closing balance (= opening + the sum of the amounts), all read from one consistent snapshot. `from` defaults to the account's createdAt, `to` to the request's time (a later `to` is cut to it). " +
      '`format` picks the media type; without it the `Accept` header does (`text/csv`, `application/x-ndjson`), else JSON. ' +
      'Every format is streamed, so any range is served in constant memory. ' +
      "**csv**: a header row, then one row per entry, amounts in minor units; a text field starting with `=`, `+`, `-` or `@` is prefixed with `'` so that spreadsheets do not run it; sent as an attachment. " +
      "**ndjson**: a first line with the JSON body's fields but `entries`, then one LedgerEntry per line. " +
      '**json**: the totals come after `entries` in the text (key order carries no meaning).',
  })
  @ApiProduces(MEDIA_TYPE.json, MEDIA_TYPE.csv, MEDIA_TYPE.ndjson)
  // Optional: without it (and without `format`) the statement is JSON. Documented here so the
  // `@Headers('accept')` below is not taken for a required parameter.
  @ApiHeader({
    name: 'accept',
    required: false,
    description:
      'Chooses the format when `format` is absent: `text/csv` or `application/x-ndjson`.',
  })
  @ApiExtraModels(StatementDto, StatementSummaryDto, LedgerEntryDto)
  @ApiResponse({
    status: 200,
    description: 'The statement, in the chosen format.',
    headers: {
      'Content-Disposition': {
        description: 'csv only: `attachment; filename="statement-<accountId>-<from>-<to>.csv"`.',
        schema: { type: 'string' },
      },
    },
    content: {
      [MEDIA_TYPE.json]: {
        schema: { $ref: getSchemaPath(StatementDto) },
        example: { ...SUMMARY_EXAMPLE, entries: ENTRIES_EXAMPLE },
      },
      [MEDIA_TYPE.csv]: {
        schema: {
          type: 'string',
          description: `Columns: ${CSV_COLUMNS.join(',')}. RFC 4180 (CRLF line ends).`,
        },
        example: CSV_EXAMPLE,
      },
      [MEDIA_TYPE.ndjson]: {
        schema: {
          type: 'string',
          description: `Line 1: ${getSchemaPath(StatementSummaryDto)}; then one ${getSchemaPath(LedgerEntryDto)} per line.`,
        },
        example: NDJSON_EXAMPLE,
      },
    },
  })
  @ApiProblems(['VALIDATION_FAILED', 'ACCOUNT_NOT_FOUND'], {
    invalid: {
      summary: 'an unknown format',
      request: { path: { accountId: 'acc-alice' }, query: { format: 'pdf' } },
      errors: [{ field: 'format', message: 'format must be one of json, csv, ndjson' }],
    },
  })
  async statement(
    @Param() params: StatementParamsDto,
    @Query() query: StatementQueryDto,
    @Headers('accept') accept?: string,
  ): Promise<StreamableFile> {
    const body = await this.statements.open(params.accountId, query, accept);
    return new StreamableFile(body.stream, {
      type: body.contentType,
      disposition: body.disposition,
    });
  }
}
