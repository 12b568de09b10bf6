import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { toSafeInteger } from '../database/bigint.transformer';

/**
 * A place in the feed: after the event `eventId` of the transaction `xactId`. The feed is ordered
 * by (xactId, eventId), both kept as decimal strings (xid8 and bigserial).
 */
export interface FeedPosition {
  readonly xactId: string;
  readonly eventId: string;
}

export const FEED_START: FeedPosition = { xactId: '0', eventId: '0' };

export interface EventRow {
  readonly eventId: string;
  readonly xactId: string;
  readonly type: string;
  readonly accountIds: string[];
  readonly occurredAt: number;
  readonly data: unknown;
}

interface RawEventRow {
  horizon: string;
  event_id: string | null;
  xact_id: string | null;
  type: string | null;
  account_ids: string[] | null;
  occurred_at: string | null;
  data: unknown;
}

/**
 * Reads of the outbox the ledger writes (`events`), and its purge. Raw SQL: the feed's order and
 * visibility rule (xid8 comparisons, the snapshot's xmin) have no query-builder form.
 */
@Injectable()
export class EventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Up to `limit` events after `after`, in (xact_id, event_id) order, of transactions older than
   * the oldest one still running (`horizon`, the snapshot's xmin, read by the same statement):
   * every such transaction has ended, so no event can still appear before the last one served.
   * Every transaction that writes later has an id ≥ the horizon.
   */
  async page(
    after: FeedPosition,
    limit: number,
    types?: readonly string[],
    accountId?: string,
  ): Promise<{ rows: EventRow[]; horizon: string }> {
    const raw = await this.dataSource.query<RawEventRow[]>(
      `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
       SELECT h.xmin::text AS horizon, e.event_id::text AS event_id, e.xact_id::text AS xact_id,
              e.type, e.account_ids, e.occurred_at::text AS occurred_at, e.data
         FROM h
         LEFT JOIN LATERAL (
           SELECT * FROM events e
            WHERE (e.xact_id, e.event_id) > ($1::text::xid8, $2::bigint)
              AND e.xact_id < h.xmin
              AND ($3::text[] IS NULL OR e.type = ANY($3::text[]))
              AND ($4::text IS NULL OR e.account_ids @> ARRAY[$4::text])
            ORDER BY e.xact_id, e.event_id
            LIMIT $5
         ) e ON true
        ORDER BY e.xact_id, e.event_id`,
      [after.xactId, after.eventId, types?.length ? types : null, accountId ?? null, limit],
    );
    const horizon = raw[0]?.horizon ?? '0';
    const rows = raw
      .filter((r) => r.event_id !== null)
      .map((r) => ({
        eventId: r.event_id!,
        xactId: r.xact_id!,
        type: r.type!,
        accountIds: r.account_ids!,
        occurredAt: toSafeInteger(r.occurred_at!),
        data: r.data,
      }));
    return { rows, horizon };
  }

  /** The feed position of one event, or undefined when there is no such event (or no more). */
  async positionOf(eventId: string): Promise<FeedPosition | undefined> {
    const rows = await this.dataSource.query<{ xact_id: string }[]>(
      `SELECT xact_id::text AS xact_id FROM events WHERE event_id = $1::bigint`,
      [eventId],
    );
    return rows[0] ? { xactId: rows[0].xact_id, eventId } : undefined;
  }

  /** Deletes up to `batchSize` events that occurred before `before`; returns how many. */
  async purgeBefore(before: number, batchSize: number): Promise<number> {
    const rows = await this.dataSource.query<{ n: number }[]>(
      `WITH gone AS (
         DELETE FROM events WHERE event_id IN (
           SELECT event_id FROM events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [before, batchSize],
    );
    return rows[0]?.n ?? 0;
  }
}

/** Orders two feed positions (-1, 0, 1). */
export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  const x = BigInt(a.xactId) - BigInt(b.xactId);
  if (x !== 0n) return x < 0n ? -1 : 1;
  const e = BigInt(a.eventId) - BigInt(b.eventId);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}
