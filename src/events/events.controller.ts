import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { EventPageDto, EventsQueryDto } from './dto/event.dto';
import { EventsService } from './events.service';

/** The first events of the examples of POST /accounts (acc-alice with 10000) on a fresh database. */
const EVENTS_EXAMPLE = {
  data: [
    {
      eventId: '1',
      type: 'account.created',
      occurredAt: 1763700000000,
      accountIds: ['acc-alice'],
      data: { accountId: 'acc-alice', currency: 'USD', balance: 10000, createdAt: 1763700000000 },
    },
    {
      eventId: '2',
      type: 'transaction.posted',
      occurredAt: 1763700000000,
      accountIds: ['acc-alice'],
      data: {
        transactionId: '5f0c8a62-3d1e-4b8f-9a57-0c2e7d41b9a3',
        type: 'DEPOSIT',
        timestamp: 1763700000000,
        entries: [
          {
            entryId: '1',
            transactionId: '5f0c8a62-3d1e-4b8f-9a57-0c2e7d41b9a3',
            accountId: 'acc-alice',
            type: 'DEPOSIT',
            amount: 10000,
            balanceAfter: 10000,
            timestamp: 1763700000000,
            counterpartyAccountId: null,
            paymentId: null,
          },
        ],
      },
    },
  ],
  nextCursor: 'WyI3NDEiLCIyIiwxNzYzNzAwMDAxMDAwXQ',
};

/** GET /events. */
@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({
    summary: 'The events feed',
    description:
      'Every change as an event, oldest first, in commit order: paging with `nextCursor` from the start returns every event exactly once, even while events are being written (an event shows once every transaction that started before it has ended). `nextCursor` is always set; on the last page it is where to poll next. Events are kept 30 days: an older cursor answers 410 CURSOR_EXPIRED.',
  })
  @ApiSuccess(200, EventPageDto, EVENTS_EXAMPLE)
  @ApiProblems(['VALIDATION_FAILED', 'CURSOR_EXPIRED'], {
    invalid: {
      summary: 'type is not an event type',
      request: { query: { type: 'account.deleted' } },
      errors: [
        {
          field: 'type',
          message:
            'type must be one of account.created, account.updated, transaction.posted, payment.created, payment.cashback_credited, payment.refunded, hold.created, hold.captured, hold.voided, hold.expired',
        },
      ],
    },
  })
  list(@Query() query: EventsQueryDto): Promise<EventPageDto> {
    return this.events.page(query);
  }
}
