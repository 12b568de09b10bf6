import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The product's original schema (accounts, ledger_transactions, payment_seq), extended for
 * the v1 contract. Invariants the database enforces by itself:
 * - balances stay within 0 … 2^53−1 (exact in a JavaScript number);
 * - a ledger entry never has amount 0 and its sign matches its operation;
 * - ledger rows are append-only: a trigger refuses UPDATE, DELETE and TRUNCATE.
 */
export class CreateLedgerSchema1763700000000 implements MigrationInterface {
  name = 'CreateLedgerSchema1763700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY
          CONSTRAINT chk_accounts_account_id CHECK (account_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
        currency TEXT NOT NULL DEFAULT 'USD'
          CONSTRAINT chk_accounts_currency CHECK (currency ~ '^[A-Z]{3}$'),
        created_at BIGINT NOT NULL,
        balance BIGINT NOT NULL DEFAULT 0
          CONSTRAINT chk_accounts_balance CHECK (balance >= 0 AND balance <= 9007199254740991),
        last_entry_at BIGINT NOT NULL DEFAULT 0,
        next_cashback_due_at BIGINT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX idx_accounts_created_at ON accounts (created_at, account_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE ledger_transactions (
        transaction_id BIGSERIAL PRIMARY KEY,
        movement_id UUID NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE RESTRICT,
        timestamp BIGINT NOT NULL,
        operation TEXT NOT NULL
          CONSTRAINT chk_ledger_operation CHECK (operation IN
            ('DEPOSIT', 'WITHDRAWAL', 'TRANSFER_OUT', 'TRANSFER_IN', 'PAYMENT', 'CASHBACK')),
        amount BIGINT NOT NULL CONSTRAINT chk_ledger_amount_nonzero CHECK (amount <> 0),
        balance_after BIGINT NOT NULL
          CONSTRAINT chk_ledger_balance_after CHECK (balance_after >= 0 AND balance_after <= 9007199254740991),
        counterparty_account_id TEXT NULL REFERENCES accounts (account_id) ON DELETE RESTRICT,
        payment_ref TEXT NULL,
        CONSTRAINT chk_ledger_amount_sign CHECK (
          (operation IN ('DEPOSIT', 'TRANSFER_IN', 'CASHBACK') AND amount > 0)
          OR (operation IN ('WITHDRAWAL', 'TRANSFER_OUT', 'PAYMENT') AND amount < 0))
      )`);
    // Serves history pages, balance-at-time look-ups and the audit, all in (timestamp, id) order.
    await queryRunner.query(
      `CREATE INDEX idx_ledger_transactions_account_timestamp
         ON ledger_transactions (account_id, timestamp, transaction_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX idx_ledger_transactions_movement ON ledger_transactions (movement_id)`,
    );
    await queryRunner.query(`CREATE SEQUENCE payment_seq START 1`);
    await queryRunner.query(`
      CREATE FUNCTION ledger_transactions_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_transactions is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER trg_ledger_transactions_no_update_delete
        BEFORE UPDATE OR DELETE ON ledger_transactions
        FOR EACH ROW EXECUTE FUNCTION ledger_transactions_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER trg_ledger_transactions_no_truncate
        BEFORE TRUNCATE ON ledger_transactions
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_transactions_append_only()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ledger_transactions`);
    await queryRunner.query(`DROP FUNCTION ledger_transactions_append_only()`);
    await queryRunner.query(`DROP SEQUENCE payment_seq`);
    await queryRunner.query(`DROP TABLE accounts`);
  }
}
