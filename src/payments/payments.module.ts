import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LedgerModule } from '../ledger/ledger.module';
import { PaymentRefund } from './payment-refund.entity';
import { Payment } from './payment.entity';
import { PaymentsController } from './payments.controller';
import { PaymentsRepository } from './payments.repository';
import { PaymentsService } from './payments.service';

/**
 * Payments and their cashback policy. A payment is a ledger command (debit + a credit
 * scheduled for the cashback); this module owns the `payments` rows, the cashback arithmetic
 * and the reads. The ledger books the cashback when due and knows nothing of why.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Payment, PaymentRefund]), LedgerModule],
  controllers: [PaymentsController],
  providers: [PaymentsService, PaymentsRepository],
  exports: [PaymentsService],
})
export class PaymentsModule {}
