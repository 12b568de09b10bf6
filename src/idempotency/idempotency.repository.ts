import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { XACT_ID_SQL } from '../database/transaction-runner';
import type { StoredResponse } from './idempotency-scope';

export type { StoredResponse };

export interface StoredKey extends StoredResponse {
  fingerprint: string;
}

interface KeyRow {
  key?: string;
  locked?: boolean;
  fingerprint: string | null;
  status_code: number | null;
  response_body: string | null;
}

function toStored(row: KeyRow | undefined): StoredKey | undefined {
  if (!row || row.fingerprint === null || row.status_code === null || row.response_body === null) {
    return undefined;
  }
  return { fingerprint: row.fingerprint, statusCode: row.status_code, body: row.response_body };
}

/** A key's state as seen by a batch: whether this transaction holds it, and its stored answer. */
export interface KeyState {
  locked: boolean;
  stored?: StoredKey;
}

/**
 * SQL on `idempotency_keys`, always on the caller's transaction. A row whose `expires_at` is
 * not after `now` counts as absent everywhere: it is neither replayed nor in the way.
 */
@Injectable()
export class IdempotencyRepository {
  /**
   * In ONE round trip: tries the transaction-scoped advisory lock of the key (never waits)
   * and reads the live stored response, if any. The read's snapshot may predate a commit
   * that released the lock; `insert` below is what finally decides.
   */
  async lockAndFind(
    manager: EntityManager,
    key: string,
    now: number,
  ): Promise<{ locked: boolean; stored?: StoredKey }> {
    const rows: KeyRow[] = await manager.query(
      `SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 0)) AS locked,
              k.fingerprint, k.status_code, k.response_body
         FROM (VALUES (1)) AS one
         LEFT JOIN idempotency_keys AS k
           ON k.idempotency_key = $1::text AND k.expires_at > $2::bigint`,
      [key, now],
    );
    const row = rows[0];
    return { locked: row?.locked === true, stored: toStored(row) };
  }

  async find(manager: EntityManager, key: string, now: number): Promise<StoredKey | undefined> {
    const rows: KeyRow[] = await manager.query(
      `SELECT fingerprint, status_code, response_body
         FROM idempotency_keys
        WHERE idempotency_key = $1::text AND expires_at > $2::bigint`,
      [key, now],
    );
    return toStored(rows[0]);
  }

  /**
   * Stores the response, overwriting only an expired row. The primary key is the final
   * arbiter between concurrent first requests: false means a live row for this key exists
   * (another request committed first), and the caller must roll its effects back.
   */
  async insert(
    manager: EntityManager,
    key: string,
    record: StoredKey,
    now: number,
    expiresAt: number,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys AS k
              (idempotency_key, fingerprint, status_code, response_body, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (idempotency_key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code,
              response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at,
              expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= EXCLUDED.created_at
       RETURNING 1`,
      [key, record.fingerprint, record.statusCode, record.body, now, expiresAt],
    );
    return rows.length === 1;
  }

  /**
   * `lockAndFind` for every key of a batch, in one round trip. Advisory locks are re-entrant
   * within a session, so a key twice in one batch is locked once; the batch itself decides the
   * second occurrence (a replay of the first).
   */
  async lockAndFindMany(
    manager: EntityManager,
    keys: readonly string[],
    now: number,
  ): Promise<Map<string, KeyState>> {
    const rows: KeyRow[] = await manager.query(
      `SELECT k.key, pg_try_advisory_xact_lock(hashtextextended(k.key, 0)) AS locked,
              s.fingerprint, s.status_code, s.response_body
         FROM unnest($1::text[]) AS k(key)
         LEFT JOIN idempotency_keys AS s
           ON s.idempotency_key = k.key AND s.expires_at > $2::bigint`,
      [[...new Set(keys)], now],
    );
    return new Map(
      rows.map((row) => [row.key!, { locked: row.locked === true, stored: toStored(row) }]),
    );
  }

  /**
   * Stores a batch's responses in one statement, overwriting only expired rows. Returns the
   * keys stored and the transaction's id; a key missing from the set was stored by another
   * transaction since `lockAndFindMany` read it, and the batch must be decided again.
   */
  async insertMany(
    manager: EntityManager,
    records: readonly (StoredKey & { key: string })[],
    now: number,
    expiresAt: number,
  ): Promise<{ stored: Set<string>; xactId: string | undefined }> {
    const rows = await manager.query<{ key: string; xact_id: string }[]>(
      `INSERT INTO idempotency_keys AS k
              (idempotency_key, fingerprint, status_code, response_body, created_at, expires_at)
       SELECT v.key, v.fingerprint, v.status_code, v.body, $5::bigint, $6::bigint
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
              AS v(key, fingerprint, status_code, body)
       ON CONFLICT (idempotency_key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code,
              response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at,
              expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= EXCLUDED.created_at
       RETURNING k.idempotency_key AS key, ${XACT_ID_SQL} AS xact_id`,
      [
        records.map((r) => r.key),
        records.map((r) => r.fingerprint),
        records.map((r) => r.statusCode),
        records.map((r) => r.body),
        now,
        expiresAt,
      ],
    );
    return { stored: new Set(rows.map((r) => r.key)), xactId: rows[0]?.xact_id };
  }

  /**
   * Deletes up to `limit` expired keys in one short statement (index on expires_at). Rows
   * locked by a request that is overwriting them are skipped, never waited for.
   */
  async deleteExpired(manager: EntityManager, now: number, limit: number): Promise<number> {
    const rows: { deleted: number }[] = await manager.query(
      `WITH gone AS (
         DELETE FROM idempotency_keys
          WHERE idempotency_key IN (
                  SELECT idempotency_key FROM idempotency_keys
                   WHERE expires_at <= $1::bigint
                   ORDER BY expires_at
                   LIMIT $2
                     FOR UPDATE SKIP LOCKED)
         RETURNING 1
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [now, limit],
    );
    return rows[0]?.deleted ?? 0;
  }
}
