import { ApiProperty } from '@nestjs/swagger';
import { LedgerEntryDto } from '../../ledger/dto/ledger-entry.dto';

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
    type: [LedgerEntryDto],
    description: 'Entries with from ≤ timestamp < to, ordered by (timestamp, entryId).',
  })
  entries!: LedgerEntryDto[];
}
