import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { EpochMillisQuery } from '../../common/http/query-transforms';
import { ACCOUNT_ID_PATTERN } from '../../common/money';
import { STATEMENT_FORMATS, type StatementFormat } from '../statement-format';

export class StatementQueryDto {
  @EpochMillisQuery(
    'from',
    "Epoch ms, inclusive: entries with timestamp ≥ from. Default: the account's createdAt.",
  )
  from?: number;

  @EpochMillisQuery(
    'to',
    "Epoch ms, exclusive: entries with timestamp < to. Default, and upper bound: the request's time.",
  )
  to?: number;

  @ApiPropertyOptional({
    enum: STATEMENT_FORMATS,
    description:
      'Response format; json when absent, unless an `Accept` of `text/csv` or `application/x-ndjson` chooses.',
  })
  @IsOptional()
  @IsIn(STATEMENT_FORMATS, { message: `format must be one of ${STATEMENT_FORMATS.join(', ')}` })
  format?: StatementFormat;
}

/** The path's account id (own copy: this module does not depend on src/accounts). */
export class StatementParamsDto {
  @ApiProperty({ example: 'acc-alice', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: 'accountId is not a valid account id' })
  accountId!: string;
}
