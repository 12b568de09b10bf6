import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { AuditService } from './audit.service';
import { AuditDto } from './dto/audit.dto';

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audits: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'Verify the whole ledger',
    description:
      'Recomputes every balance from the ledger and checks every balanceAfter chain in history order, in one consistent snapshot. `ok` is true when there are no mismatches. Bounded cost: one run at a time per instance (concurrent calls share it), on one database connection outside the request pool, in chunks of accounts.',
  })
  @ApiSuccess(200, AuditDto, {
    ok: true,
    accountsChecked: 3,
    entriesChecked: 9,
    totalBalance: 8500,
    mismatches: [],
  })
  @ApiProblems([])
  audit(): Promise<AuditDto> {
    return this.audits.audit();
  }
}
