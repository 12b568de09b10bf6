import { Module } from '@nestjs/common';
import { LedgerModule } from '../../ledger/ledger.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** GET /metrics (Prometheus); the request hook is installed by `setupObservability`. */
@Module({
  imports: [LedgerModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
