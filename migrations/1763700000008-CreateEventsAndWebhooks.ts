import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox (`events`) and the webhook endpoints with their deliveries.
 *
 * `xact_id` is the id of the transaction that wrote the event (`pg_current_xact_id()`): the
 * feed serves only events of transactions older than the oldest one still running, ordered by
 * (xact_id, event_id), so a transaction that drew smaller event ids but commits later is never
 * skipped by a reader who already went past those ids.
 */
export class CreateEventsAndWebhooks1763700000008 implements MigrationInterface {
  name = 'CreateEventsAndWebhooks1763700000008';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        event_id BIGSERIAL PRIMARY KEY,
        xact_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
        type TEXT NOT NULL CHECK (type ~ '^[a-z]+\\.[a-z_]+$'),
        account_ids TEXT[] NOT NULL,
        occurred_at BIGINT NOT NULL CHECK (occurred_at >= 0),
        data JSONB NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX idx_events_position ON events (xact_id, event_id)`);
    await queryRunner.query(
      `CREATE INDEX idx_events_account_ids ON events USING GIN (account_ids)`,
    );
    await queryRunner.query(`CREATE INDEX idx_events_occurred_at ON events (occurred_at)`);

    await queryRunner.query(`
      CREATE TABLE webhook_endpoints (
        endpoint_id TEXT PRIMARY KEY,
        url TEXT NOT NULL CHECK (url ~ '^https?://'),
        event_types TEXT[],
        secret TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        cursor_xact_id XID8 NOT NULL,
        cursor_event_id BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until BIGINT
      )`);
    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        seq BIGSERIAL PRIMARY KEY,
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (endpoint_id) ON DELETE CASCADE,
        event_id BIGINT NOT NULL,
        status TEXT NOT NULL DEFAULT 'PENDING'
          CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        first_attempt_at BIGINT,
        last_status_code INTEGER,
        last_attempt_at BIGINT,
        next_attempt_at BIGINT NOT NULL,
        UNIQUE (endpoint_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX idx_webhook_deliveries_pending ON webhook_deliveries (endpoint_id, seq) WHERE status = 'PENDING'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE webhook_deliveries`);
    await queryRunner.query(`DROP TABLE webhook_endpoints`);
    await queryRunner.query(`DROP TABLE events`);
  }
}
