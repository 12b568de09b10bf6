import { ApiProperty } from '@nestjs/swagger';

export class AuditMismatchDto {
  @ApiProperty({ example: 'acc-alice' })
  accountId!: string;

  @ApiProperty({ example: 100, type: 'integer' })
  balance!: number;

  @ApiProperty({ example: 90, type: 'integer' })
  ledgerSum!: number;

  @ApiProperty({ example: 'balance 100 differs from the ledger sum 90' })
  detail!: string;
}

export class AuditDto {
  @ApiProperty({ example: true })
  ok!: boolean;

  @ApiProperty({ example: 2, type: 'integer' })
  accountsChecked!: number;

  @ApiProperty({ example: 5, type: 'integer' })
  entriesChecked!: number;

  @ApiProperty({ example: 20000, type: 'integer' })
  totalBalance!: number;

  @ApiProperty({ type: [AuditMismatchDto] })
  mismatches!: AuditMismatchDto[];
}
