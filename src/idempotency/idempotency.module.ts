import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IdempotencyPurger } from './idempotency-purger';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyService } from './idempotency.service';
import { IdempotencyStore } from './idempotency.store';

/**
 * Safe retries for every POST (Idempotency-Key header, see API.md "Idempotency"), with no
 * per-controller code: a global interceptor, the unit of work it runs, and the purge job.
 */
@Module({
  providers: [
    IdempotencyStore,
    IdempotencyService,
    IdempotencyPurger,
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
  ],
})
export class IdempotencyModule {}
