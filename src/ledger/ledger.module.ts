import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { MetricsModule } from '../observability/metrics/metrics.module';
import { Account } from './account.entity';
import { Hold } from './hold.entity';
import { HoldsRepository } from './repositories/holds.repository';
import { LedgerEngine } from './engine/ledger-engine';
import { LedgerEntry } from './ledger-entry.entity';
import { LedgerQueries } from './ledger-queries.service';
import { MovementsController } from './movements.controller';
import { MovementsService } from './movements.service';
import { AccountsRepository } from './repositories/accounts.repository';
import { LedgerRepository } from './repositories/ledger.repository';
import { ScheduledCreditsRepository } from './repositories/scheduled-credits.repository';
import { ScheduledCredit } from './scheduled-credit.entity';
import { ScheduledCreditsWorker } from './scheduled-credits.worker';
import { TransactionsController } from './transactions.controller';

/**
 * The ledger owns every write of money: the `accounts` rows (balances), the append-only
 * entries and the scheduled credits, all written by the LedgerEngine in batches. Modules above
 * it (accounts, payments) submit commands and read through what it exports; it imports
 * nothing of theirs.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([LedgerEntry, Account, ScheduledCredit, Hold]),
    IdempotencyModule,
    MetricsModule,
  ],
  controllers: [MovementsController, TransactionsController],
  providers: [
    AccountsRepository,
    LedgerRepository,
    ScheduledCreditsRepository,
    HoldsRepository,
    LedgerEngine,
    MovementsService,
    LedgerQueries,
    ScheduledCreditsWorker,
  ],
  exports: [
    LedgerEngine,
    LedgerQueries,
    AccountsRepository,
    ScheduledCreditsRepository,
    HoldsRepository,
  ],
})
export class LedgerModule {}
