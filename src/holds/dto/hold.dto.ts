import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { IsAbsentOr } from '../../common/http/optional';
import { PageMetaDto, PageQueryDto } from '../../common/http/pagination';
import { ACCOUNT_ID_PATTERN, MAX_AMOUNT, MIN_AMOUNT } from '../../common/money';
import { Amount } from '../../ledger/dto/movement.dto';
import { HOLD_STATUSES, type HoldState, type HoldStatus } from '../../ledger/engine/commands';

export const MAX_HOLD_EXPIRES_IN_MS = 2_592_000_000; // 30 days
export const DEFAULT_HOLD_EXPIRES_IN_MS = 604_800_000; // 7 days

export class CreateHoldDto {
  @ApiProperty({ example: 'acc-alice', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: 'accountId is not a valid account id' })
  accountId!: string;

  @ApiProperty({
    description: 'Integer minor units, 1 … 10^15, reserved now.',
    minimum: MIN_AMOUNT,
    maximum: MAX_AMOUNT,
    type: 'integer',
    example: 3000,
  })
  @Amount()
  amount!: number;

  @ApiPropertyOptional({
    description:
      'Absent or null: the capture is a payment (a PAYMENT entry, a paymentId and its cashback). Otherwise the capture is a transfer to this account (same currency).',
    example: 'acc-bob',
    nullable: true,
    pattern: ACCOUNT_ID_PATTERN.source,
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null)
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: 'targetAccountId is not a valid account id' })
  targetAccountId?: string | null;

  @ApiPropertyOptional({
    description: `Milliseconds until the hold expires, 1 … ${MAX_HOLD_EXPIRES_IN_MS} (30 days); ${DEFAULT_HOLD_EXPIRES_IN_MS} (7 days) when absent.`,
    minimum: 1,
    maximum: MAX_HOLD_EXPIRES_IN_MS,
    type: 'integer',
    example: 3600000,
  })
  @IsAbsentOr()
  @IsInt({ message: 'expiresInMs must be an integer number of milliseconds' })
  @Min(1)
  @Max(MAX_HOLD_EXPIRES_IN_MS)
  expiresInMs?: number;
}

export class CaptureHoldDto {
  @ApiPropertyOptional({
    description:
      'Integer minor units, 1 … the hold amount; the whole hold when absent. Less captures that much and releases the rest.',
    minimum: MIN_AMOUNT,
    maximum: MAX_AMOUNT,
    type: 'integer',
    example: 1000,
  })
  @IsAbsentOr()
  @Amount()
  amount?: number;
}

export const HOLD_ID_PATTERN = /^hold_[0-9a-f]{32}$/;

/** `hold_` and 32 hex digits; anything else is 400, an unknown one 404 HOLD_NOT_FOUND. */
export class HoldIdParamDto {
  @ApiProperty({
    example: 'hold_0b8e6f3a8a4e4a539d7c2f3b1c9e5a10',
    pattern: HOLD_ID_PATTERN.source,
  })
  @IsString()
  @Matches(HOLD_ID_PATTERN, { message: 'holdId is not a valid hold id' })
  holdId!: string;
}

export class HoldsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: HOLD_STATUSES, description: 'Only holds in this status.' })
  @IsOptional()
  @IsIn(HOLD_STATUSES, { message: `status must be one of ${HOLD_STATUSES.join(', ')}` })
  status?: HoldStatus;
}

export class HoldCaptureInfoDto {
  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({ example: 1000, type: 'integer' })
  amount!: number;

  @ApiProperty({
    example: null,
    nullable: true,
    type: 'string',
    description: 'Payment captures only.',
  })
  paymentId!: string | null;

  @ApiProperty({ example: 1763700000900, type: 'integer' })
  timestamp!: number;
}

@ApiExtraModels(HoldCaptureInfoDto)
export class HoldDto {
  @ApiProperty({ example: 'hold_0b8e6f3a8a4e4a539d7c2f3b1c9e5a10' })
  holdId!: string;

  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({
    example: 'acc-bob',
    nullable: true,
    type: 'string',
    description: 'Null: the capture is a payment; else a transfer to this account.',
  })
  targetAccountId!: string | null;

  @ApiProperty({ example: 1000, type: 'integer' })
  amount!: number;

  @ApiProperty({
    enum: HOLD_STATUSES,
    example: 'AUTHORIZED',
    description: 'AUTHORIZED, then exactly one of CAPTURED, VOIDED, EXPIRED, never changed after.',
  })
  status!: HoldStatus;

  @ApiProperty({ example: 1763703600800, type: 'integer', description: 'createdAt + expiresInMs.' })
  expiresAt!: number;

  @ApiProperty({ example: 1763700000800, type: 'integer' })
  createdAt!: number;

  @ApiProperty({ example: 0, type: 'integer' })
  capturedAmount!: number;

  @ApiProperty({
    allOf: [{ $ref: getSchemaPath(HoldCaptureInfoDto) }],
    nullable: true,
    example: null,
    description: 'Null until captured.',
  })
  capture!: HoldCaptureInfoDto | null;

  static from(this: void, hold: HoldState): HoldDto {
    return {
      holdId: hold.holdId,
      accountId: hold.accountId,
      targetAccountId: hold.targetAccountId,
      amount: hold.amount,
      status: hold.status,
      expiresAt: hold.expiresAt,
      createdAt: hold.createdAt,
      capturedAmount: hold.capturedAmount,
      capture:
        hold.captureMovementId === null || hold.captureTimestamp === null
          ? null
          : {
              transactionId: hold.captureMovementId,
              amount: hold.capturedAmount,
              paymentId: hold.capturePaymentId,
              timestamp: hold.captureTimestamp,
            },
    };
  }
}

export class HoldCapturedDto {
  @ApiProperty({ type: HoldDto })
  hold!: HoldDto;

  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({
    example: 5000,
    type: 'integer',
    description: "The held account's balance, after.",
  })
  balance!: number;

  @ApiProperty({
    example: null,
    nullable: true,
    type: 'string',
    description: 'Null for a transfer.',
  })
  paymentId!: string | null;
}

export class HoldPageDto extends PageMetaDto {
  @ApiProperty({ type: [HoldDto] })
  data!: HoldDto[];
}
