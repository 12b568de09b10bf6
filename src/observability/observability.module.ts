import { Module } from '@nestjs/common';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';

/** Structured logs and Prometheus metrics; `setupObservability` wires them into HTTP. */
@Module({
  imports: [LoggingModule, MetricsModule],
  exports: [LoggingModule, MetricsModule],
})
export class ObservabilityModule {}
