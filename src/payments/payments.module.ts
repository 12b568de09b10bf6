import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { CashbackSettler } from './cashback-settler';
import { CashbackWorker } from './cashback-worker';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';

/**
 * Payments and their scheduled cashbacks. Money moves only through the ledger's
 * PostingsService; this module owns the `payments` and `cashbacks` tables, the settler every
 * movement consults under its account locks, and the background worker.
 */
@Module({
  imports: [LedgerModule],
  controllers: [PaymentsController],
  providers: [PaymentsService, CashbackSettler, CashbackWorker],
})
export class PaymentsModule {}
