import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { toSafeInteger } from '../database/bigint.transformer';
import type { FeedPosition } from '../events/events.repository';

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface EndpointRow {
  readonly endpointId: string;
  readonly url: string;
  /** null: every type. */
  readonly eventTypes: string[] | null;
  readonly secret: string;
  readonly createdAt: number;
  readonly cursor: FeedPosition;
}

export interface DeliveryRow {
  readonly seq: string;
  readonly eventId: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly firstAttemptAt: number | null;
  readonly lastStatusCode: number | null;
  readonly lastAttemptAt: number | null;
  readonly nextAttemptAt: number;
}

interface RawEndpoint {
  endpoint_id: string;
  url: string;
  event_types: string[] | null;
  secret: string;
  created_at: string;
  cursor_xact_id: string;
  cursor_event_id: string;
}

interface RawDelivery {
  seq: string;
  event_id: string;
  status: DeliveryStatus;
  attempts: number;
  first_attempt_at: string | null;
  last_status_code: number | null;
  last_attempt_at: string | null;
  next_attempt_at: string;
}

const ENDPOINT_COLUMNS = `endpoint_id, url, event_types, secret, created_at::text AS created_at,
  cursor_xact_id::text AS cursor_xact_id, cursor_event_id::text AS cursor_event_id`;
const deliveryColumns = (d: string) => `${d}.seq::text AS seq, ${d}.event_id::text AS event_id,
  ${d}.status, ${d}.attempts, ${d}.first_attempt_at::text AS first_attempt_at,
  ${d}.last_status_code, ${d}.last_attempt_at::text AS last_attempt_at,
  ${d}.next_attempt_at::text AS next_attempt_at`;

const nullableInt = (value: string | null) => (value === null ? null : toSafeInteger(value));

function toEndpoint(r: RawEndpoint): EndpointRow {
  return {
    endpointId: r.endpoint_id,
    url: r.url,
    eventTypes: r.event_types,
    secret: r.secret,
    createdAt: toSafeInteger(r.created_at),
    cursor: { xactId: r.cursor_xact_id, eventId: r.cursor_event_id },
  };
}

function toDelivery(r: RawDelivery): DeliveryRow {
  return {
    seq: r.seq,
    eventId: r.event_id,
    status: r.status,
    attempts: r.attempts,
    firstAttemptAt: nullableInt(r.first_attempt_at),
    lastStatusCode: r.last_status_code,
    lastAttemptAt: nullableInt(r.last_attempt_at),
    nextAttemptAt: toSafeInteger(r.next_attempt_at),
  };
}

/**
 * `webhook_endpoints` and `webhook_deliveries`. An instance works on an endpoint only while it
 * holds the endpoint's lease (`lease_owner`, `lease_until`), taken with one atomic UPDATE, so
 * several instances share the endpoints without sending a delivery twice in the normal case;
 * every write of the worker is conditional on still holding the lease. (UPDATE and DELETE are
 * wrapped in a CTE: TypeORM's `query` answers them as [rows, count], a SELECT as its rows.)
 */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, endpoint: EndpointRow): Promise<void> {
    await manager.query(
      `INSERT INTO webhook_endpoints
         (endpoint_id, url, event_types, secret, created_at, cursor_xact_id, cursor_event_id)
       VALUES ($1, $2, $3, $4, $5, $6::text::xid8, $7)`,
      [
        endpoint.endpointId,
        endpoint.url,
        endpoint.eventTypes,
        endpoint.secret,
        endpoint.createdAt,
        endpoint.cursor.xactId,
        endpoint.cursor.eventId,
      ],
    );
  }

  async findById(endpointId: string): Promise<EndpointRow | undefined> {
    const rows = await this.dataSource.query<RawEndpoint[]>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE endpoint_id = $1`,
      [endpointId],
    );
    return rows[0] && toEndpoint(rows[0]);
  }

  /** Oldest first, by (created_at, endpoint_id). */
  async page(limit: number, after?: [number, string]): Promise<EndpointRow[]> {
    const rows = await this.dataSource.query<RawEndpoint[]>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
        WHERE $1::bigint IS NULL OR (created_at, endpoint_id) > ($1::bigint, $2::text)
        ORDER BY created_at, endpoint_id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit],
    );
    return rows.map(toEndpoint);
  }

  /** Deletes the endpoint and its deliveries; false when there was none. */
  async delete(endpointId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH gone AS (DELETE FROM webhook_endpoints WHERE endpoint_id = $1 RETURNING 1)
       SELECT 1 FROM gone`,
      [endpointId],
    );
    return rows.length === 1;
  }

  /** One endpoint's deliveries in event order (`seq`), keyset-paginated. */
  async deliveries(endpointId: string, limit: number, afterSeq?: string): Promise<DeliveryRow[]> {
    const rows = await this.dataSource.query<RawDelivery[]>(
      `SELECT ${deliveryColumns('d')} FROM webhook_deliveries d
        WHERE d.endpoint_id = $1 AND ($2::bigint IS NULL OR d.seq > $2::bigint)
        ORDER BY d.seq LIMIT $3`,
      [endpointId, afterSeq ?? null, limit],
    );
    return rows.map(toDelivery);
  }

  /**
   * Leases up to `limit` endpoints whose lease is free or lapsed, skipping `busy` ones (this
   * instance's own) and rows another instance is claiming right now.
   */
  async claim(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    busy: readonly string[],
  ): Promise<EndpointRow[]> {
    const rows = await this.dataSource.query<RawEndpoint[]>(
      `WITH claimed AS (
         UPDATE webhook_endpoints SET lease_owner = $1, lease_until = $2::bigint + $3::bigint
          WHERE endpoint_id IN (
            SELECT endpoint_id FROM webhook_endpoints
             WHERE (lease_until IS NULL OR lease_until <= $2) AND endpoint_id <> ALL($5::text[])
             ORDER BY lease_until NULLS FIRST, endpoint_id
             LIMIT $4
             FOR UPDATE SKIP LOCKED)
         RETURNING ${ENDPOINT_COLUMNS})
       SELECT * FROM claimed`,
      [owner, now, leaseMs, limit, busy],
    );
    return rows.map(toEndpoint);
  }

  /** Extends the lease; false when it was lost (lapsed and taken, or the endpoint deleted). */
  async renew(endpointId: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH renewed AS (
         UPDATE webhook_endpoints SET lease_until = $3::bigint + $4::bigint
          WHERE endpoint_id = $1 AND lease_owner = $2 RETURNING 1)
       SELECT 1 FROM renewed`,
      [endpointId, owner, now, leaseMs],
    );
    return rows.length === 1;
  }

  async release(endpointId: string, owner: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL
        WHERE endpoint_id = $1 AND lease_owner = $2`,
      [endpointId, owner],
    );
  }

  /**
   * Adds deliveries for new events (in feed order, so `seq` is event order) and moves the
   * endpoint's feed cursor past them, in one statement, only while `owner` holds the lease.
   * Returns false when the lease was lost (nothing written).
   */
  async enqueue(
    endpointId: string,
    owner: string,
    eventIds: readonly string[],
    cursor: FeedPosition,
    now: number,
  ): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH moved AS (
         UPDATE webhook_endpoints SET cursor_xact_id = $3::text::xid8, cursor_event_id = $4
          WHERE endpoint_id = $1 AND lease_owner = $2
         RETURNING endpoint_id
       ), added AS (
         INSERT INTO webhook_deliveries (endpoint_id, event_id, next_attempt_at)
         SELECT m.endpoint_id, e.event_id, $6
           FROM moved m, unnest($5::bigint[]) WITH ORDINALITY AS e(event_id, ord)
          ORDER BY e.ord
         ON CONFLICT (endpoint_id, event_id) DO NOTHING
       )
       SELECT 1 FROM moved`,
      [endpointId, owner, cursor.xactId, cursor.eventId, eventIds, now],
    );
    return rows.length === 1;
  }

  /** The endpoint's oldest PENDING delivery with its event's JSON (null if it was purged). */
  async head(endpointId: string): Promise<(DeliveryRow & { event: unknown }) | undefined> {
    const rows = await this.dataSource.query<(RawDelivery & { event: unknown })[]>(
      `SELECT ${deliveryColumns('d')},
              CASE WHEN e.event_id IS NULL THEN NULL ELSE jsonb_build_object(
                'eventId', e.event_id::text, 'type', e.type, 'occurredAt', e.occurred_at,
                'accountIds', to_jsonb(e.account_ids), 'data', e.data) END AS event
         FROM webhook_deliveries d
         LEFT JOIN events e ON e.event_id = d.event_id
        WHERE d.endpoint_id = $1 AND d.status = 'PENDING'
        ORDER BY d.seq
        LIMIT 1`,
      [endpointId],
    );
    return rows[0] && { ...toDelivery(rows[0]), event: rows[0].event };
  }

  /** Records an attempt's outcome, only while `owner` holds the endpoint's lease. */
  async recordAttempt(
    endpointId: string,
    owner: string,
    seq: string,
    update: {
      status: DeliveryStatus;
      statusCode: number | null;
      attemptAt: number;
      nextAttemptAt: number;
    },
  ): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH recorded AS (
         UPDATE webhook_deliveries d
            SET status = $4, attempts = d.attempts + 1, last_status_code = $5,
                last_attempt_at = $6, first_attempt_at = COALESCE(d.first_attempt_at, $6),
                next_attempt_at = $7
           FROM webhook_endpoints w
          WHERE d.seq = $3 AND d.endpoint_id = $1
            AND w.endpoint_id = $1 AND w.lease_owner = $2
         RETURNING 1)
       SELECT 1 FROM recorded`,
      [
        endpointId,
        owner,
        seq,
        update.status,
        update.statusCode,
        update.attemptAt,
        update.nextAttemptAt,
      ],
    );
    return rows.length === 1;
  }
}
