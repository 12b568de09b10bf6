import { MigrationInterface, QueryRunner } from 'typeorm';
import { validateEnvironment } from '../src/config/environment';

const OLD_OPERATIONS = `'DEPOSIT', 'WITHDRAWAL', 'TRANSFER_OUT', 'TRANSFER_IN', 'PAYMENT', 'CASHBACK'`;

/**
 * Refunds of payments and reversals of movements (contract v1.1, issue 18).
 *
 * - Ledger entries gain the types REFUND (a credit), CASHBACK_REVERSAL (a debit) and REVERSAL
 *   (either sign: it undoes a credit or a debit), and `reversed_transaction_id`, set exactly
 *   on REVERSAL entries. The refunded and reversed amounts so far are sums of entries, read
 *   under the accounts' locks through the two partial indexes below.
 * - Payments gain `refunded_amount` and `cashback_rate_bps` (the rate the cashback is computed
 *   at, for ever); `cashback_amount` becomes the current cashback. Existing payments get the
 *   rate in force when this migration runs (CASHBACK_RATE_BPS), which is the rate they were
 *   made at unless the setting changed since.
 * - `payment_refunds`: one row per refund, written with its movement.
 */
export class AddRefundsAndReversals1763700000007 implements MigrationInterface {
  name = 'AddRefundsAndReversals1763700000007';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // --- process.env fence: migrations are instantiated by TypeORM without arguments, so the
    // --- rate is read through the same validator the app's config uses (default 200).
    const rateBps = validateEnvironment({
      CASHBACK_RATE_BPS: process.env.CASHBACK_RATE_BPS,
    }).CASHBACK_RATE_BPS;

    await queryRunner.query(
      `ALTER TABLE ledger_transactions ADD COLUMN reversed_transaction_id UUID NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE ledger_transactions DROP CONSTRAINT chk_ledger_amount_sign`,
    );
    await queryRunner.query(`ALTER TABLE ledger_transactions DROP CONSTRAINT chk_ledger_operation`);
    await queryRunner.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT chk_ledger_operation CHECK (operation IN
        (${OLD_OPERATIONS}, 'REFUND', 'CASHBACK_REVERSAL', 'REVERSAL'))`);
    await queryRunner.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT chk_ledger_amount_sign CHECK (
        (operation IN ('DEPOSIT', 'TRANSFER_IN', 'CASHBACK', 'REFUND') AND amount > 0)
        OR (operation IN ('WITHDRAWAL', 'TRANSFER_OUT', 'PAYMENT', 'CASHBACK_REVERSAL') AND amount < 0)
        OR operation = 'REVERSAL')`);
    await queryRunner.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT chk_ledger_reversed_transaction CHECK (
        (operation = 'REVERSAL') = (reversed_transaction_id IS NOT NULL))`);
    await queryRunner.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT chk_ledger_refund_payment CHECK (
        operation NOT IN ('REFUND', 'CASHBACK_REVERSAL') OR payment_ref IS NOT NULL)`);
    // The refunded and credited amounts of a payment, and the reversed amount of a movement.
    await queryRunner.query(`
      CREATE INDEX idx_ledger_transactions_payment_ref ON ledger_transactions (payment_ref)
        WHERE payment_ref IS NOT NULL`);
    await queryRunner.query(`
      CREATE INDEX idx_ledger_transactions_reversed ON ledger_transactions (reversed_transaction_id)
        WHERE reversed_transaction_id IS NOT NULL`);

    await queryRunner.query(
      `ALTER TABLE payments ADD COLUMN refunded_amount BIGINT NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(`ALTER TABLE payments ADD COLUMN cashback_rate_bps INTEGER NULL`);
    await queryRunner.query(`UPDATE payments SET cashback_rate_bps = $1`, [rateBps]);
    await queryRunner.query(`
      ALTER TABLE payments
        ALTER COLUMN cashback_rate_bps SET NOT NULL,
        ADD CONSTRAINT chk_payments_refunded CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
        ADD CONSTRAINT chk_payments_rate CHECK (cashback_rate_bps BETWEEN 0 AND 10000)`);
    await queryRunner.query(`
      CREATE TABLE payment_refunds (
        refund_id UUID PRIMARY KEY,
        payment_id TEXT NOT NULL REFERENCES payments (payment_id) ON DELETE RESTRICT,
        movement_id UUID NOT NULL,
        amount BIGINT NOT NULL CONSTRAINT chk_payment_refunds_amount CHECK (amount > 0),
        cashback_adjustment BIGINT NOT NULL
          CONSTRAINT chk_payment_refunds_adjustment CHECK (cashback_adjustment >= 0),
        timestamp BIGINT NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX idx_payment_refunds_payment ON payment_refunds (payment_id, timestamp)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE payment_refunds`);
    await queryRunner.query(`
      ALTER TABLE payments
        DROP CONSTRAINT chk_payments_rate,
        DROP CONSTRAINT chk_payments_refunded,
        DROP COLUMN cashback_rate_bps,
        DROP COLUMN refunded_amount`);
    await queryRunner.query(`DROP INDEX idx_ledger_transactions_reversed`);
    await queryRunner.query(`DROP INDEX idx_ledger_transactions_payment_ref`);
    await queryRunner.query(
      `ALTER TABLE ledger_transactions DROP CONSTRAINT chk_ledger_refund_payment`,
    );
    await queryRunner.query(
      `ALTER TABLE ledger_transactions DROP CONSTRAINT chk_ledger_reversed_transaction`,
    );
    await queryRunner.query(
      `ALTER TABLE ledger_transactions DROP CONSTRAINT chk_ledger_amount_sign`,
    );
    await queryRunner.query(`ALTER TABLE ledger_transactions DROP CONSTRAINT chk_ledger_operation`);
    // Fails while refund or reversal entries exist: the ledger is append-only.
    await queryRunner.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT chk_ledger_operation CHECK (operation IN
        (${OLD_OPERATIONS}))`);
    await queryRunner.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT chk_ledger_amount_sign CHECK (
        (operation IN ('DEPOSIT', 'TRANSFER_IN', 'CASHBACK') AND amount > 0)
        OR (operation IN ('WITHDRAWAL', 'TRANSFER_OUT', 'PAYMENT') AND amount < 0))`);
    await queryRunner.query(`ALTER TABLE ledger_transactions DROP COLUMN reversed_transaction_id`);
  }
}
