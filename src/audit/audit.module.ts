import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/**
 * GET /audit. Reads the ledger's tables through its own repository and connection; depends on
 * nothing but the database, config and common layers, never on the ledger module's code.
 */
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditRepository],
})
export class AuditModule {}
