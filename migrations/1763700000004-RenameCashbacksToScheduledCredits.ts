import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scheduled credits become a ledger concept: a credit of `amount` to an account, due at a time,
 * booked then as an entry of `entry_type`, identified by the `reference` of whatever scheduled
 * it (a payment's id for a cashback). The ledger owns the table and knows nothing of why a
 * credit exists, so the foreign key to `payments` goes: the payment points at its credit, not
 * the reverse. Data is kept as it is; only names change.
 */
export class RenameCashbacksToScheduledCredits1763700000004 implements MigrationInterface {
  name = 'RenameCashbacksToScheduledCredits1763700000004';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE cashbacks RENAME TO scheduled_credits`);
    await queryRunner.query(`ALTER TABLE scheduled_credits RENAME COLUMN payment_id TO reference`);
    await queryRunner.query(
      `ALTER TABLE scheduled_credits DROP CONSTRAINT cashbacks_payment_id_fkey`,
    );
    await queryRunner.query(
      `ALTER TABLE scheduled_credits RENAME CONSTRAINT cashbacks_pkey TO scheduled_credits_pkey`,
    );
    await queryRunner.query(
      `ALTER TABLE scheduled_credits RENAME CONSTRAINT chk_cashbacks_amount TO chk_scheduled_credits_amount`,
    );
    await queryRunner.query(
      `ALTER TABLE scheduled_credits RENAME CONSTRAINT cashbacks_account_id_fkey TO scheduled_credits_account_id_fkey`,
    );
    await queryRunner.query(`
      ALTER TABLE scheduled_credits
        ADD COLUMN entry_type TEXT NOT NULL DEFAULT 'CASHBACK'
          CONSTRAINT chk_scheduled_credits_entry_type CHECK (entry_type IN ('CASHBACK'))`);
    await queryRunner.query(
      `ALTER INDEX idx_cashbacks_pending_due RENAME TO idx_scheduled_credits_pending_due`,
    );
    await queryRunner.query(
      `ALTER INDEX idx_cashbacks_pending_account RENAME TO idx_scheduled_credits_pending_account`,
    );
    await queryRunner.query(
      `ALTER TABLE accounts RENAME COLUMN next_cashback_due_at TO next_credit_due_at`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE accounts RENAME COLUMN next_credit_due_at TO next_cashback_due_at`,
    );
    await queryRunner.query(
      `ALTER INDEX idx_scheduled_credits_pending_account RENAME TO idx_cashbacks_pending_account`,
    );
    await queryRunner.query(
      `ALTER INDEX idx_scheduled_credits_pending_due RENAME TO idx_cashbacks_pending_due`,
    );
    await queryRunner.query(`ALTER TABLE scheduled_credits DROP COLUMN entry_type`);
    await queryRunner.query(
      `ALTER TABLE scheduled_credits RENAME CONSTRAINT scheduled_credits_account_id_fkey TO cashbacks_account_id_fkey`,
    );
    await queryRunner.query(
      `ALTER TABLE scheduled_credits RENAME CONSTRAINT chk_scheduled_credits_amount TO chk_cashbacks_amount`,
    );
    await queryRunner.query(
      `ALTER TABLE scheduled_credits RENAME CONSTRAINT scheduled_credits_pkey TO cashbacks_pkey`,
    );
    await queryRunner.query(`ALTER TABLE scheduled_credits RENAME COLUMN reference TO payment_id`);
    await queryRunner.query(`
      ALTER TABLE scheduled_credits ADD CONSTRAINT cashbacks_payment_id_fkey
        FOREIGN KEY (payment_id) REFERENCES payments (payment_id) ON DELETE RESTRICT`);
    await queryRunner.query(`ALTER TABLE scheduled_credits RENAME TO cashbacks`);
  }
}
