import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { EpochMillisQuery } from '../../common/http/query-transforms';
import { ACCOUNT_ID_PATTERN } from '../../common/money';

export class AccountIdParamDto {
  @ApiProperty({ example: 'acc-alice', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: 'accountId is not a valid account id' })
  accountId!: string;
}

export class BalanceQueryDto {
  @EpochMillisQuery(
    'at',
    'Epoch ms: the balance after every entry whose timestamp ≤ at. 404 if the account did not exist yet.',
  )
  at?: number;
}
