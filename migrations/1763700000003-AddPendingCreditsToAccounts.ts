import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reserves room under the 2^53−1 balance limit for cashbacks not yet credited. Without it an
 * account topped up close to the limit after a payment could never receive its cashback: the
 * credit would fail BALANCE_LIMIT_EXCEEDED forever and block every later movement. With
 * `balance + pending_credits` bounded, a credit that is promised can always be paid.
 */
export class AddPendingCreditsToAccounts1763700000003 implements MigrationInterface {
  name = 'AddPendingCreditsToAccounts1763700000003';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE accounts ADD COLUMN pending_credits BIGINT NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(`
      UPDATE accounts AS a SET pending_credits = p.total
        FROM (SELECT account_id, SUM(amount) AS total FROM cashbacks
               WHERE settled_at IS NULL GROUP BY account_id) AS p
       WHERE a.account_id = p.account_id`);
    await queryRunner.query(`
      ALTER TABLE accounts ADD CONSTRAINT chk_accounts_pending_credits
        CHECK (pending_credits >= 0 AND balance + pending_credits <= 9007199254740991)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN pending_credits`);
  }
}
