import { Module } from '@nestjs/common';
import { StatementsController } from './statements.controller';
import { StatementsRepository } from './statements.repository';
import { StatementsService } from './statements.service';

/** GET /accounts/{accountId}/statement: reads the ledger only, streams every format. */
@Module({
  controllers: [StatementsController],
  providers: [StatementsService, StatementsRepository],
})
export class StatementsModule {}
