import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IdempotencyPurger } from './idempotency-purger';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';

/**
 * Safe retries for every POST (Idempotency-Key header, see API.md "Idempotency"), with no
 * per-controller code: a global interceptor and its scope, the repository the ledger engine
 * stores responses through, and the purge job.
 */
@Module({
  providers: [
    IdempotencyRepository,
    IdempotencyService,
    IdempotencyPurger,
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
  ],
  exports: [IdempotencyRepository, IdempotencyService],
})
export class IdempotencyModule {}
