import { ApiProperty } from '@nestjs/swagger';
import { ENTRY_TYPES } from '../../ledger/ledger-entry.entity';

/** LedgerEntry of the contract (v1.1), as a statement lists it. */
export class StatementEntryDto {
  @ApiProperty({ example: '1042', description: 'Opaque id of this entry.' })
  entryId!: string;

  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ enum: ENTRY_TYPES, example: 'TRANSFER_OUT' })
  type!: string;

  @ApiProperty({ example: -1500, type: 'integer', description: 'Signed: + credit, − debit.' })
  amount!: number;

  @ApiProperty({ example: 11000, type: 'integer' })
  balanceAfter!: number;

  @ApiProperty({ example: 1763700000000, type: 'integer' })
  timestamp!: number;

  @ApiProperty({ type: String, nullable: true, example: 'acc-bob' })
  counterpartyAccountId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  paymentId!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Set on REVERSAL entries; null otherwise.',
  })
  reversedTransactionId!: string | null;
}

/** Everything a statement states about its range but the entries: the first ndjson line. */
export class StatementSummaryDto {
  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ example: 1763700000000, type: 'integer', description: 'Inclusive, epoch ms.' })
  from!: number;

  @ApiProperty({
    example: 1763786400000,
    type: 'integer',
    description: "Exclusive, epoch ms (cut to the request's time).",
  })
  to!: number;

  @ApiProperty({
    example: 12500,
    type: 'integer',
    description: 'Balance after the last entry before `from` (0 if none).',
  })
  openingBalance!: number;

  @ApiProperty({
    example: 11000,
    type: 'integer',
    description: 'openingBalance + the sum of the amounts of the entries.',
  })
  closingBalance!: number;

  @ApiProperty({ example: 0, type: 'integer', description: 'Sum of the positive amounts.' })
  totalCredits!: number;

  @ApiProperty({
    example: 1500,
    type: 'integer',
    description: 'Sum of the negative amounts, as a positive number.',
  })
  totalDebits!: number;

  @ApiProperty({ example: 1, type: 'integer' })
  entryCount!: number;
}

export class StatementDto extends StatementSummaryDto {
  @ApiProperty({
    type: [StatementEntryDto],
    description: 'Entries with from ≤ timestamp < to, ordered by (timestamp, entryId).',
  })
  entries!: StatementEntryDto[];
}
