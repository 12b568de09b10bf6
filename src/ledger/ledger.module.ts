import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Account } from '../accounts/account.entity';
import { LedgerEntry } from './ledger-entry.entity';
import { LedgerQueries } from './ledger-queries.service';
import { MovementsController } from './movements.controller';
import { MovementsService } from './movements.service';
import { PostingsService } from './postings.service';
import { TransactionsController } from './transactions.controller';

/**
 * The ledger owns every balance change. It reads and locks `accounts` rows (the balance it
 * keeps) but knows nothing of account opening or payments; those modules post through
 * PostingsService.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LedgerEntry, Account])],
  controllers: [MovementsController, TransactionsController],
  providers: [PostingsService, MovementsService, LedgerQueries],
  exports: [PostingsService, LedgerQueries],
})
export class LedgerModule {}
