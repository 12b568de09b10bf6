import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { MetricsModule } from '../observability/metrics/metrics.module';
import { DeliveryWorker } from './delivery-worker';
import { WebhookSender } from './webhook-sender';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/**
 * Webhook endpoints, their deliveries and the delivery worker. It reads the events feed through
 * the events module (webhooks → events → ledger); nothing imports it.
 */
@Module({
  imports: [EventsModule, IdempotencyModule, MetricsModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService, WebhookSender, DeliveryWorker],
  exports: [DeliveryWorker],
})
export class WebhooksModule {}
