import { MigrationInterface, QueryRunner } from 'typeorm';

/** Stored responses of POST requests sent with an Idempotency-Key header. */
export class CreateIdempotencyKeys1763700000002 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1763700000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        idempotency_key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        response_body TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX idx_idempotency_keys_expires_at ON idempotency_keys (expires_at)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
  }
}
