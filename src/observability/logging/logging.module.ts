import { Module } from '@nestjs/common';
import { AppLogger, LogDestination } from './app-logger.service';

/**
 * Structured JSON logs through one pino logger per app. Installed on the HTTP pipeline by
 * `setupObservability` (request lines, request-id context, Nest's logger).
 */
@Module({
  providers: [AppLogger, { provide: LogDestination, useValue: new LogDestination() }],
  exports: [AppLogger],
})
export class LoggingModule {}
