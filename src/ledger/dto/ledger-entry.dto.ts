import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { IsAbsentOr } from '../../common/http/optional';
import { Amount, AMOUNT_DOC } from './movement.dto';
import { PageMetaDto, PageQueryDto } from '../../common/http/pagination';
import { EpochMillisQuery } from '../../common/http/query-transforms';
import { ENTRY_TYPES, LedgerEntry, type EntryType } from '../ledger-entry.entity';

export class LedgerEntryDto {
  @ApiProperty({ example: '1042', description: 'Opaque id of this entry.' })
  entryId!: string;

  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ enum: ENTRY_TYPES, example: 'TRANSFER_OUT' })
  type!: EntryType;

  @ApiProperty({ example: -1500, type: 'integer', description: 'Signed: + credit, − debit.' })
  amount!: number;

  @ApiProperty({ example: 8500, type: 'integer' })
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
    description: 'Set on REVERSAL entries (the movement they undo); null otherwise.',
  })
  reversedTransactionId!: string | null;

  static from(
    this: void,
    entry: Omit<LedgerEntry, 'reversedTransactionId'> & { reversedTransactionId?: string | null },
  ): LedgerEntryDto {
    return {
      entryId: entry.entryId,
      transactionId: entry.movementId,
      accountId: entry.accountId,
      type: entry.type,
      amount: entry.amount,
      balanceAfter: entry.balanceAfter,
      timestamp: entry.timestamp,
      counterpartyAccountId: entry.counterpartyAccountId,
      paymentId: entry.paymentId,
      reversedTransactionId: entry.reversedTransactionId ?? null,
    };
  }
}

export class LedgerEntryPageDto extends PageMetaDto {
  @ApiProperty({ type: [LedgerEntryDto] })
  data!: LedgerEntryDto[];
}

export class HistoryQueryDto extends PageQueryDto {
  @EpochMillisQuery('timestamp', 'Epoch ms: only entries with timestamp ≤ this.')
  timestamp?: number;
}

export class TransactionIdParamDto {
  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  @IsString()
  transactionId!: string;
}

export class TransactionDto {
  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({
    enum: ['DEPOSIT', 'WITHDRAWAL', 'TRANSFER', 'PAYMENT', 'CASHBACK', 'REFUND', 'REVERSAL'],
    example: 'TRANSFER',
  })
  type!: string;

  @ApiProperty({ example: 1763700000000, type: 'integer' })
  timestamp!: number;

  @ApiProperty({ type: [LedgerEntryDto] })
  entries!: LedgerEntryDto[];

  @ApiProperty({
    example: 0,
    type: 'integer',
    description: 'How much of this movement its reversals have undone so far (0 when none).',
  })
  reversedAmount!: number;
}

/** `{ amount? }`: without an amount, all that is left of the movement is reversed. */
export class CreateReversalDto {
  @ApiPropertyOptional({
    ...AMOUNT_DOC,
    description: 'Integer minor units, 1 … 10^15. Default: all that is left to reverse.',
    example: 500,
  })
  @IsAbsentOr()
  @Amount()
  amount?: number;
}

export class ReversalDto {
  @ApiProperty({
    example: '6d2a8f41-9c3e-4b17-a5d0-e8f1b2c47a96',
    description: 'The reversal movement.',
  })
  transactionId!: string;

  @ApiProperty({ enum: ['REVERSAL'], example: 'REVERSAL' })
  type!: 'REVERSAL';

  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  reversedTransactionId!: string;

  @ApiProperty({ example: 500, type: 'integer' })
  amount!: number;

  @ApiProperty({ type: [LedgerEntryDto], description: 'The REVERSAL entries, debits first.' })
  entries!: LedgerEntryDto[];
}
