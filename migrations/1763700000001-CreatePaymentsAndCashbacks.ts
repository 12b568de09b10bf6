import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments and their scheduled cashbacks. The ledger is append-only, so a pending cashback is
 * a row here (settled_at NULL) until it is credited as a CASHBACK ledger entry.
 */
export class CreatePaymentsAndCashbacks1763700000001 implements MigrationInterface {
  name = 'CreatePaymentsAndCashbacks1763700000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE payments (
        payment_id TEXT PRIMARY KEY,
        movement_id UUID NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE RESTRICT,
        amount BIGINT NOT NULL CONSTRAINT chk_payments_amount CHECK (amount > 0),
        cashback_amount BIGINT NOT NULL CONSTRAINT chk_payments_cashback CHECK (cashback_amount >= 0),
        cashback_due_at BIGINT NOT NULL,
        timestamp BIGINT NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX idx_payments_account ON payments (account_id)`);
    await queryRunner.query(`
      CREATE TABLE cashbacks (
        payment_id TEXT PRIMARY KEY REFERENCES payments (payment_id) ON DELETE RESTRICT,
        account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE RESTRICT,
        amount BIGINT NOT NULL CONSTRAINT chk_cashbacks_amount CHECK (amount >= 0),
        due_at BIGINT NOT NULL,
        settled_at BIGINT NULL,
        movement_id UUID NULL
      )`);
    // The worker's queue and the settle-on-touch look-up only ever read pending rows.
    await queryRunner.query(
      `CREATE INDEX idx_cashbacks_pending_due ON cashbacks (due_at) WHERE settled_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX idx_cashbacks_pending_account ON cashbacks (account_id, due_at)
         WHERE settled_at IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE cashbacks`);
    await queryRunner.query(`DROP TABLE payments`);
  }
}
