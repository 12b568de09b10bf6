import { ApiProperty } from '@nestjs/swagger';
import { PageMetaDto } from '../../common/http/pagination';
import type { AccountState } from '../../ledger/engine/commands';

export class AccountDto {
  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ example: 10000, type: 'integer', description: 'Minor units.' })
  balance!: number;

  @ApiProperty({ example: 1763700000000, type: 'integer', description: 'Epoch milliseconds.' })
  createdAt!: number;

  static from(this: void, account: AccountState): AccountDto {
    return {
      accountId: account.accountId,
      currency: account.currency,
      balance: account.balance,
      createdAt: account.createdAt,
    };
  }
}

export class AccountPageDto extends PageMetaDto {
  @ApiProperty({ type: [AccountDto] })
  data!: AccountDto[];
}

export class BalanceDto {
  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ example: 10000, type: 'integer' })
  balance!: number;

  @ApiProperty({
    example: 1763700000000,
    type: 'integer',
    description: 'The time the balance is for: the `at` asked for, else the server time now.',
  })
  at!: number;
}
