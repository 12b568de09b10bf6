import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/**
 * GET /audit. Reads the ledger's tables through its own repository and connection (one run at
 * a time, outside the request pool); asks the ledger engine only to book due credits first.
 */
@Module({
  imports: [LedgerModule],
  controllers: [AuditController],
  providers: [AuditService, AuditRepository],
})
export class AuditModule {}
