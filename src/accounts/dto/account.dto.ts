import { ApiProperty } from '@nestjs/swagger';
import { PageMetaDto } from '../../common/http/pagination';
import {
  ACCOUNT_STATUSES,
  type AccountState,
  type AccountStatus,
} from '../../ledger/engine/commands';
import { availableBalance } from '../../ledger/engine/rules';

export class AccountDto {
  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ example: 10000, type: 'integer', description: 'Minor units.' })
  balance!: number;

  @ApiProperty({ example: 1763700000000, type: 'integer', description: 'Epoch milliseconds.' })
  createdAt!: number;

  @ApiProperty({
    enum: ACCOUNT_STATUSES,
    example: 'ACTIVE',
    description:
      'FROZEN refuses debits (credits still land); CLOSED refuses every movement, for good.',
  })
  status!: AccountStatus;

  @ApiProperty({
    example: 0,
    type: 'integer',
    description: 'Sum of the remaining amounts of the AUTHORIZED holds on the account.',
  })
  heldAmount!: number;

  @ApiProperty({
    example: 10000,
    type: 'integer',
    description:
      '`balance + overdraftLimit − heldAmount`: the most a new debit may take right now.',
  })
  availableBalance!: number;

  @ApiProperty({
    example: 0,
    type: 'integer',
    description: 'The balance may go down to −overdraftLimit, never below.',
  })
  overdraftLimit!: number;

  @ApiProperty({
    example: null,
    type: 'integer',
    nullable: true,
    description:
      'Most the account may debit per UTC day (withdrawals, outgoing transfers, payments, and holds authorized that day); null: no limit.',
  })
  dailyDebitLimit!: number | null;

  static from(this: void, account: AccountState): AccountDto {
    return {
      accountId: account.accountId,
      currency: account.currency,
      balance: account.balance,
      createdAt: account.createdAt,
      status: account.status,
      heldAmount: account.heldAmount,
      availableBalance: availableBalance(account),
      overdraftLimit: account.overdraftLimit,
      dailyDebitLimit: account.dailyDebitLimit,
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

  @ApiProperty({
    example: 0,
    type: 'integer',
    nullable: true,
    description: 'Held by AUTHORIZED holds now; null when `at` is given.',
  })
  heldAmount!: number | null;

  @ApiProperty({
    example: 10000,
    type: 'integer',
    nullable: true,
    description: '`balance + overdraftLimit − heldAmount` now; null when `at` is given.',
  })
  availableBalance!: number | null;
}
