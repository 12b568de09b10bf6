import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ACCOUNT_ID_PATTERN } from '../money';

/** `{accountId}` in a path, on every module's routes under /accounts/{accountId}. */
export class AccountIdParamDto {
  @ApiProperty({ example: 'acc-alice', pattern: ACCOUNT_ID_PATTERN.source })
  @IsString()
  @Matches(ACCOUNT_ID_PATTERN, { message: 'accountId is not a valid account id' })
  accountId!: string;
}
