import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { DomainException, ValidationFailedException } from '../common/errors/domain.exception';
import { decodeCursor, encodeCursor } from '../common/http/pagination';
import { AppConfig } from '../config/app-config';
import { EventDto, EventPageDto, EventsQueryDto } from './dto/event.dto';
import type { EventType } from './event-types';
import {
  comparePositions,
  EventRow,
  EventsRepository,
  FEED_START,
  FeedPosition,
} from './events.repository';

/** An event with its place in the feed (for readers that keep their own cursor: webhooks). */
export interface FeedEvent {
  readonly position: FeedPosition;
  readonly event: EventDto;
}

/**
 * The events feed: complete and in commit order, paged by (transaction id, event id) under the
 * horizon of transactions still running (EventsRepository.page). A cursor is
 * `[xactId, eventId, issuedAt]`: it expires with the events, after EVENTS_RETENTION_MS.
 */
@Injectable()
export class EventsService {
  private readonly retentionMs: number;

  constructor(
    private readonly events: EventsRepository,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.retentionMs = config.get('EVENTS_RETENTION_MS');
  }

  async page(query: EventsQueryDto): Promise<EventPageDto> {
    const now = this.clock.now();
    const from = await this.start(query.after, now);
    const { rows, horizon } = await this.events.page(
      from,
      query.limit,
      query.type,
      query.accountId,
    );
    const last = rows.at(-1);
    let next = last ? positionOf(last) : from;
    if (rows.length < query.limit) {
      // Everything visible after `from` was served: the next event to commit is at or past the
      // horizon, so the next poll can start there (and skip what the filters left out).
      const atHorizon = { xactId: horizon, eventId: '0' };
      if (comparePositions(atHorizon, next) > 0) next = atHorizon;
    }
    return {
      data: rows.map(toEventDto),
      nextCursor: encodeCursor([next.xactId, next.eventId, now]),
    };
  }

  /** Up to `limit` events after `after` of the given types (all when undefined), in order. */
  async readAfter(
    after: FeedPosition,
    limit: number,
    types: readonly EventType[] | null,
  ): Promise<FeedEvent[]> {
    const { rows } = await this.events.page(after, limit, types ?? undefined);
    return rows.map((row) => ({ position: positionOf(row), event: toEventDto(row) }));
  }

  /** The position a reader starting now begins at: only events committed from now on. */
  async currentHorizon(): Promise<FeedPosition> {
    const { horizon } = await this.events.page(FEED_START, 0);
    return { xactId: horizon, eventId: '0' };
  }

  private async start(after: string | undefined, now: number): Promise<FeedPosition> {
    if (after === undefined) return FEED_START;
    if (/^\d{1,18}$/.test(after)) {
      const position = await this.events.positionOf(after);
      if (!position) {
        throw new DomainException(
          'CURSOR_EXPIRED',
          `Event ${after} is not in the feed (events are kept ${this.retentionDays()} days); start again without \`after\`.`,
        );
      }
      return position;
    }
    let decoded: [string, string, number];
    try {
      decoded = decodeCursor<[string, string, number]>(after, 'ddn');
    } catch {
      throw new ValidationFailedException([
        { field: 'after', message: 'after is not a cursor this service issued, nor an eventId' },
      ]);
    }
    const [xactId, eventId, issuedAt] = decoded;
    if (issuedAt < now - this.retentionMs) {
      throw new DomainException(
        'CURSOR_EXPIRED',
        `This cursor is older than the ${this.retentionDays()} days events are kept; start again without \`after\`.`,
      );
    }
    return { xactId, eventId };
  }

  private retentionDays(): number {
    return Math.round((this.retentionMs / 86_400_000) * 100) / 100;
  }
}

function positionOf(row: EventRow): FeedPosition {
  return { xactId: row.xactId, eventId: row.eventId };
}

function toEventDto(row: EventRow): EventDto {
  return {
    eventId: row.eventId,
    type: row.type as EventType,
    occurredAt: row.occurredAt,
    accountIds: row.accountIds,
    data: row.data as Record<string, unknown>,
  };
}
