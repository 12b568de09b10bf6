import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { AuditDto } from './dto/ledger-entry.dto';
import { LedgerQueries } from './ledger-queries.service';

@ApiTags('ledger')
@Controller('audit')
export class AuditController {
  constructor(private readonly ledger: LedgerQueries) {}

  @Get()
  @ApiOperation({
    summary: 'Verify the whole ledger',
    description:
      'Recomputes every balance from the ledger and checks every balanceAfter chain in history order, in one consistent snapshot. `ok` is true when there are no mismatches.',
  })
  @ApiSuccess(200, AuditDto, {
    ok: true,
    accountsChecked: 2,
    entriesChecked: 5,
    totalBalance: 10000,
    mismatches: [],
  })
  @ApiProblems([])
  audit(): Promise<AuditDto> {
    return this.ledger.audit();
  }
}
