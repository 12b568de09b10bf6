import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { ACCOUNT_ID_PATTERN, MAX_AMOUNT, MIN_AMOUNT } from '../../common/money';

const ACCOUNT_ID_MESSAGE = (field: string) => `${field} is not a valid account id`;
export const AMOUNT_DOC = {
  description: 'Integer minor units, 1 … 10^15.',
  minimum: MIN_AMOUNT,
  maximum: MAX_AMOUNT,
  type: 'integer',
} as const;

/** Amount rules shared by every movement: an integer 1 … 10^15, never a string or a fraction. */
export function Amount(): PropertyDecorator {
  return (target, key) => {
    IsInt({ message: 'amount must be an integer number of minor units' })(target, key);
    Min(MIN_AMOUNT, { message: `amount must be at least ${MIN_AMOUNT}` })(target, key);
    Max(MAX_AMOUNT, { message: `amount must not exceed ${MAX_AMOUNT}` })(target, key);
  };
}

export class AccountAmountDto {
  @ApiProperty({ example: 'acc-alice', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: ACCOUNT_ID_MESSAGE('accountId') })
  accountId!: string;

  @ApiProperty({ ...AMOUNT_DOC, example: 2500 })
  @Amount()
  amount!: number;
}

export class TransferDto {
  @ApiProperty({ example: 'acc-alice', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: ACCOUNT_ID_MESSAGE('sourceAccountId') })
  sourceAccountId!: string;

  @ApiProperty({ example: 'acc-bob', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: ACCOUNT_ID_MESSAGE('targetAccountId') })
  targetAccountId!: string;

  @ApiProperty({ ...AMOUNT_DOC, example: 1500 })
  @Amount()
  amount!: number;
}

export class SingleAccountMovementDto {
  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({ enum: ['DEPOSIT', 'WITHDRAWAL'], example: 'DEPOSIT' })
  type!: 'DEPOSIT' | 'WITHDRAWAL';

  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 2500, type: 'integer' })
  amount!: number;

  @ApiProperty({
    example: 12500,
    type: 'integer',
    description: 'Balance right after the movement.',
  })
  balance!: number;

  @ApiProperty({ example: 1763700000000, type: 'integer' })
  timestamp!: number;
}

export class TransferResultDto {
  @ApiProperty({ example: '0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10' })
  transactionId!: string;

  @ApiProperty({ enum: ['TRANSFER'], example: 'TRANSFER' })
  type!: 'TRANSFER';

  @ApiProperty({ example: 'acc-alice' })
  sourceAccountId!: string;

  @ApiProperty({ example: 'acc-bob' })
  targetAccountId!: string;

  @ApiProperty({ example: 1500, type: 'integer' })
  amount!: number;

  @ApiProperty({ example: 8500, type: 'integer' })
  sourceBalance!: number;

  @ApiProperty({ example: 1500, type: 'integer' })
  targetBalance!: number;

  @ApiProperty({ example: 1763700000000, type: 'integer' })
  timestamp!: number;
}
