import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';
import { IsAbsentOr } from '../../common/http/optional';
import { MAX_AMOUNT } from '../../common/money';

/** `overdraftLimit`: an integer 0 … 10^15 (absent: unchanged, or 0 on a new account). */
export function OverdraftLimit(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      description:
        'Minor units, 0 … 10^15: the balance may go down to −overdraftLimit. Default 0 (no overdraft).',
      example: 5000,
      minimum: 0,
      maximum: MAX_AMOUNT,
      type: 'integer',
    })(target, key);
    IsAbsentOr()(target, key);
    IsInt({ message: 'overdraftLimit must be an integer number of minor units' })(target, key);
    Min(0, { message: 'overdraftLimit must not be negative' })(target, key);
    Max(MAX_AMOUNT, { message: `overdraftLimit must not exceed ${MAX_AMOUNT}` })(target, key);
  };
}

/** `dailyDebitLimit`: an integer 1 … 10^15, or null for none (absent: unchanged, or none). */
export function DailyDebitLimit(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      description:
        'Minor units, 1 … 10^15, or null for no limit: the most the account may debit per UTC day. Default null.',
      example: 20000,
      minimum: 1,
      maximum: MAX_AMOUNT,
      type: 'integer',
      nullable: true,
    })(target, key);
    // Absent and null both skip the checks: null is a valid value (no limit).
    ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null)(
      target,
      key,
    );
    IsInt({ message: 'dailyDebitLimit must be an integer number of minor units or null' })(
      target,
      key,
    );
    Min(1, { message: 'dailyDebitLimit must be at least 1' })(target, key);
    Max(MAX_AMOUNT, { message: `dailyDebitLimit must not exceed ${MAX_AMOUNT}` })(target, key);
  };
}

/** PATCH /accounts/{accountId}: at least one field. */
export class UpdateAccountDto {
  @OverdraftLimit()
  overdraftLimit?: number;

  @DailyDebitLimit()
  dailyDebitLimit?: number | null;
}
