import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Account controls (API.md v1.1, "Accounts gain controls"): status, overdraft limit, daily
 * debit limit, held amount, and the per-account, per-UTC-day debit counter that makes the daily
 * limit a single comparison on the locked row (no scan of the day's history).
 *
 * The floor of every balance becomes `−overdraft_limit` (0 for accounts without one, so v1
 * accounts keep `balance >= 0`), enforced by the database itself; so is `available >= 0`
 * (`balance + overdraft_limit − held_amount`): no rule may reserve more than the account has.
 * Entries may now carry a negative `balance_after`, down to the largest overdraft (10^15).
 */
export class AddAccountControls1763700000005 implements MigrationInterface {
  name = 'AddAccountControls1763700000005';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE accounts
        ADD COLUMN status TEXT NOT NULL DEFAULT 'ACTIVE'
          CONSTRAINT chk_accounts_status CHECK (status IN ('ACTIVE', 'FROZEN', 'CLOSED')),
        ADD COLUMN overdraft_limit BIGINT NOT NULL DEFAULT 0
          CONSTRAINT chk_accounts_overdraft_limit
            CHECK (overdraft_limit BETWEEN 0 AND 1000000000000000),
        ADD COLUMN daily_debit_limit BIGINT NULL
          CONSTRAINT chk_accounts_daily_debit_limit
            CHECK (daily_debit_limit BETWEEN 1 AND 1000000000000000),
        ADD COLUMN held_amount BIGINT NOT NULL DEFAULT 0
          CONSTRAINT chk_accounts_held_amount CHECK (held_amount >= 0),
        ADD COLUMN debit_day INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN debit_used BIGINT NOT NULL DEFAULT 0
          CONSTRAINT chk_accounts_debit_used CHECK (debit_used >= 0)`);
    await queryRunner.query(`
      ALTER TABLE accounts
        DROP CONSTRAINT chk_accounts_balance,
        ADD CONSTRAINT chk_accounts_balance
          CHECK (balance >= -overdraft_limit AND balance <= 9007199254740991),
        ADD CONSTRAINT chk_accounts_available
          CHECK (balance + overdraft_limit - held_amount >= 0)`);
    await queryRunner.query(`
      ALTER TABLE ledger_transactions
        DROP CONSTRAINT chk_ledger_balance_after,
        ADD CONSTRAINT chk_ledger_balance_after
          CHECK (balance_after >= -1000000000000000 AND balance_after <= 9007199254740991)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ledger_transactions
        DROP CONSTRAINT chk_ledger_balance_after,
        ADD CONSTRAINT chk_ledger_balance_after
          CHECK (balance_after >= 0 AND balance_after <= 9007199254740991)`);
    await queryRunner.query(`
      ALTER TABLE accounts
        DROP CONSTRAINT chk_accounts_available,
        DROP CONSTRAINT chk_accounts_balance,
        ADD CONSTRAINT chk_accounts_balance CHECK (balance >= 0 AND balance <= 9007199254740991),
        DROP COLUMN debit_used,
        DROP COLUMN debit_day,
        DROP COLUMN held_amount,
        DROP COLUMN daily_debit_limit,
        DROP COLUMN overdraft_limit,
        DROP COLUMN status`);
  }
}
