import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { PaymentsModule } from '../payments/payments.module';
import { HoldsController } from './holds.controller';
import { HoldsService } from './holds.service';

/**
 * Holds: authorize now, capture or void later, expiry. The `holds` rows are the ledger's (its
 * engine writes them with the balances); this module submits the commands and reads. A capture
 * without a target is a payment, so it builds that payment through the payments module.
 */
@Module({
  imports: [LedgerModule, PaymentsModule],
  controllers: [HoldsController],
  providers: [HoldsService],
})
export class HoldsModule {}
