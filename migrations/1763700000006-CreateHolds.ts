import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds (API.md v1.1, "Holds"): funds reserved on an account now and moved later, once. A
 * hold books no entry until captured; while AUTHORIZED its amount is counted in the account's
 * `held_amount` (written with the balance, under the account's lock).
 *
 * `accounts.next_hold_expires_at` is a lower bound of the earliest `expires_at` of the
 * account's AUTHORIZED holds (NULL: none). Every batch sees from the row it already locked
 * whether a hold must be expired first, as `next_credit_due_at` does for cashbacks.
 */
export class CreateHolds1763700000006 implements MigrationInterface {
  name = 'CreateHolds1763700000006';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE holds (
        hold_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE RESTRICT,
        target_account_id TEXT NULL REFERENCES accounts (account_id) ON DELETE RESTRICT,
        amount BIGINT NOT NULL CONSTRAINT chk_holds_amount CHECK (amount BETWEEN 1 AND 1000000000000000),
        status TEXT NOT NULL
          CONSTRAINT chk_holds_status CHECK (status IN ('AUTHORIZED', 'CAPTURED', 'VOIDED', 'EXPIRED')),
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        captured_amount BIGINT NOT NULL DEFAULT 0,
        capture_movement_id UUID NULL,
        capture_payment_id TEXT NULL,
        capture_timestamp BIGINT NULL,
        resolved_at BIGINT NULL,
        CONSTRAINT chk_holds_capture CHECK (
          (status = 'CAPTURED') = (capture_movement_id IS NOT NULL)
          AND captured_amount BETWEEN 0 AND amount
          AND (status = 'CAPTURED' OR captured_amount = 0)
          AND (status = 'AUTHORIZED') = (resolved_at IS NULL)),
        CONSTRAINT chk_holds_target CHECK (target_account_id IS DISTINCT FROM account_id)
      )`);
    // GET /accounts/{id}/holds, oldest first.
    await queryRunner.query(
      `CREATE INDEX idx_holds_account_created ON holds (account_id, created_at, hold_id)`,
    );
    // Expiry: the AUTHORIZED holds of an account in expiry order.
    await queryRunner.query(
      `CREATE INDEX idx_holds_authorized_expiry ON holds (account_id, expires_at)
        WHERE status = 'AUTHORIZED'`,
    );
    await queryRunner.query(`ALTER TABLE accounts ADD COLUMN next_hold_expires_at BIGINT NULL`);
    // The sweeper's look-up of accounts with a hold to expire.
    await queryRunner.query(
      `CREATE INDEX idx_accounts_next_hold_expires_at ON accounts (next_hold_expires_at)
        WHERE next_hold_expires_at IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN next_hold_expires_at`);
    await queryRunner.query(`DROP TABLE holds`);
  }
}
