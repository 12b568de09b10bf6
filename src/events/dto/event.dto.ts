import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  getSchemaPath,
  PickType,
} from '@nestjs/swagger';
import { AccountDto } from '../../accounts/dto/account.dto';
import { HoldDto } from '../../holds/dto/hold.dto';
import { TransactionDto } from '../../ledger/dto/ledger-entry.dto';
import { PaymentDto } from '../../payments/dto/payment.dto';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/http/pagination';
import { ACCOUNT_ID_PATTERN } from '../../common/money';
import { EVENT_TYPES, type EventType } from '../event-types';

@ApiExtraModels(AccountDto, PaymentDto, TransactionDto, HoldDto)
export class EventDto {
  @ApiProperty({ example: '1042', description: 'Opaque id; also a valid `after`.' })
  eventId!: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'transaction.posted' })
  type!: EventType;

  @ApiProperty({ example: 1763700000500, type: 'integer', description: 'Epoch milliseconds.' })
  occurredAt!: number;

  @ApiProperty({ type: [String], example: ['acc-alice', 'acc-bob'] })
  accountIds!: string[];

  @ApiProperty({
    anyOf: [
      { $ref: getSchemaPath(AccountDto) },
      { $ref: getSchemaPath(PaymentDto) },
      { $ref: getSchemaPath(TransactionDto) },
      { $ref: getSchemaPath(HoldDto) },
    ],
    description:
      'The resource as its GET endpoint shows it: the Account, the Payment, the Hold, or for `transaction.posted` `{ transactionId, type, timestamp, entries }` as GET /transactions/{transactionId}.',
  })
  data!: Record<string, unknown>;
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto] })
  data!: EventDto[];

  @ApiProperty({
    type: String,
    description:
      'Always set: where the next page starts, and on the last page where to poll next (it may then return nothing yet).',
    example: 'WyIxMjMiLCIxMDQyIiwxNzYzNzAwMDAwNjAwXQ',
  })
  nextCursor!: string;
}

/** `?type=a&type=b` arrives as an array, `?type=a` as a string: both become an array. */
const toArray = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? [value] : value;

/** `limit` as every list has it; `after` in place of `cursor` (it also takes an eventId). */
export class EventsQueryDto extends PickType(PageQueryDto, ['limit'] as const) {
  @ApiPropertyOptional({
    description:
      "Where to start: a previous page's `nextCursor`, or an `eventId` (the events after it). Empty: from the oldest event kept.",
    maxLength: 512,
    pattern: '^[A-Za-z0-9_-]+$',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'after must be a cursor or an eventId' })
  after?: string;

  @ApiPropertyOptional({
    description: 'Only events of these types (repeat the parameter for several).',
    enum: EVENT_TYPES,
    isArray: true,
  })
  @IsOptional()
  @Transform(toArray)
  @IsIn(EVENT_TYPES, { each: true, message: `type must be one of ${EVENT_TYPES.join(', ')}` })
  type?: EventType[];

  @ApiPropertyOptional({
    description: 'Only events about this account.',
    pattern: ACCOUNT_ID_PATTERN.source,
  })
  @IsOptional()
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: 'accountId is not a valid account id' })
  accountId?: string;
}
