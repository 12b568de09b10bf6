import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { IsIso4217Currency, ISO_4217_CODES } from '../../common/currency';
import { IsAbsentOr } from '../../common/http/optional';
import { ACCOUNT_ID_PATTERN, DEFAULT_CURRENCY, MAX_AMOUNT } from '../../common/money';
import { DailyDebitLimit, OverdraftLimit } from './account-controls.dto';

export class CreateAccountDto {
  @ApiPropertyOptional({
    description:
      'Client-chosen id, unique forever. Generated when omitted. Pattern `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`.',
    example: 'acc-alice',
    pattern: ACCOUNT_ID_PATTERN.source,
    maxLength: 64,
  })
  @IsAbsentOr()
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, {
    message:
      'accountId must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-", starting with a letter or digit',
  })
  accountId?: string;

  @ApiPropertyOptional({
    description:
      'An active ISO 4217 code (`USD`, `EUR`, …; `XYZ` or a withdrawn code is refused), fixed for the life of the account.',
    example: 'USD',
    default: DEFAULT_CURRENCY,
    enum: ISO_4217_CODES,
  })
  @IsAbsentOr()
  @IsIso4217Currency()
  currency?: string;

  @ApiPropertyOptional({
    description:
      'Opening balance in minor units, 0 … 10^15; a positive one is booked as a DEPOSIT entry.',
    example: 10000,
    minimum: 0,
    maximum: MAX_AMOUNT,
    default: 0,
    type: 'integer',
  })
  @IsAbsentOr()
  @IsInt({ message: 'initialDeposit must be an integer number of minor units' })
  @Min(0)
  @Max(MAX_AMOUNT)
  initialDeposit?: number;

  @OverdraftLimit()
  overdraftLimit?: number;

  @DailyDebitLimit()
  dailyDebitLimit?: number | null;
}
