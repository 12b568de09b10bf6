import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AccountsModule } from './accounts/accounts.module';
import { AuditModule } from './audit/audit.module';
import { CommonModule } from './common/common.module';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { AppConfigModule } from './config/app-config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HoldsModule } from './holds/holds.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { LedgerModule } from './ledger/ledger.module';
import { ObservabilityModule } from './observability/observability.module';
import { PaymentsModule } from './payments/payments.module';
import { StatementsModule } from './statements/statements.module';

@Module({
  imports: [
    AppConfigModule,
    ScheduleModule.forRoot(),
    ObservabilityModule,
    CommonModule,
    DatabaseModule,
    HealthModule,
    AccountsModule,
    LedgerModule,
    AuditModule,
    PaymentsModule,
    StatementsModule,
    HoldsModule,
    IdempotencyModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
})
export class AppModule {}
