import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { EventsPurger } from './events-purger';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

/**
 * GET /events and the purge of old events. The ledger writes the outbox in its batches; this
 * module only reads and purges it (data flows one way: ledger → events → webhooks).
 */
@Module({
  controllers: [EventsController],
  providers: [EventsRepository, EventsService, EventsPurger],
  exports: [EventsService],
})
export class EventsModule {}
