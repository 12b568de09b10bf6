import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainException } from '../common/errors/domain.exception';
import { AppConfig } from '../config/app-config';
import { toSafeInteger } from '../database/bigint.transformer';
import { TransactionRunner } from '../database/transaction-runner';
import { PostingsService } from '../ledger/postings.service';
import { cashbackAmount, cashbackDueAt, paymentStatus } from './cashback';
import { CreatePaymentDto, PaymentCreatedDto, PaymentDto } from './dto/payment.dto';

/** `payment` + a positive integer without leading zeros, as `payment_seq` hands them out. */
const PAYMENT_ID = /^payment[1-9][0-9]{0,18}$/;

interface PaymentRow {
  payment_id: string;
  movement_id: string;
  account_id: string;
  amount: string;
  cashback_amount: string;
  cashback_due_at: string;
  timestamp: string;
  settled_at: string | null;
  next_cashback_due_at: string | null;
}

@Injectable()
export class PaymentsService {
  private readonly rateBps: number;
  private readonly delayMs: number;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly postings: PostingsService,
    private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.rateBps = config.get('CASHBACK_RATE_BPS');
    this.delayMs = config.get('CASHBACK_DELAY_MS');
  }

  /**
   * Debits the account and schedules its cashback, in one transaction. The payment number is
   * drawn only after the account is locked and the funds check passed: a rejected payment
   * consumes no number, and the row lock makes one account's numbers rise in commit order.
   */
  create(dto: CreatePaymentDto): Promise<PaymentCreatedDto> {
    const { accountId, amount } = dto;
    return this.transactions.run(async (manager) => {
      const locked = await this.postings.lock(manager, [accountId]);
      const account = locked.accounts.get(accountId)!;
      if (account.balance < amount) {
        throw new DomainException(
          'INSUFFICIENT_FUNDS',
          `Account ${accountId} has ${account.balance}, needs ${amount}.`,
        );
      }
      const [seq] = await manager.query<{ n: string }[]>(
        `SELECT nextval('payment_seq')::text AS n`,
      );
      const paymentId = `payment${seq.n}`;
      const posted = await this.postings.post(manager, locked, [
        { accountId, type: 'PAYMENT', amount: -amount, paymentId },
      ]);
      const cashback = cashbackAmount(amount, this.rateBps);
      const dueAt = cashbackDueAt(posted.timestamp, this.delayMs);
      // LEAST ignores NULL in PostgreSQL: an account without pending cashbacks gets dueAt.
      // pending_credits reserves the cashback under the balance limit; it always fits, as the
      // cashback (rate ≤ 100 %) is at most the amount just debited.
      await manager.query(
        `WITH payment AS (
           INSERT INTO payments
             (payment_id, movement_id, account_id, amount, cashback_amount, cashback_due_at, timestamp)
           VALUES ($1, $2::uuid, $3, $4::bigint, $5::bigint, $6::bigint, $7::bigint)
         ), cashback AS (
           INSERT INTO cashbacks (payment_id, account_id, amount, due_at)
           VALUES ($1, $3, $5::bigint, $6::bigint)
         )
         UPDATE accounts
            SET next_cashback_due_at = LEAST(next_cashback_due_at, $6::bigint),
                pending_credits = pending_credits + $5::bigint
          WHERE account_id = $3`,
        [paymentId, posted.movementId, accountId, amount, cashback, dueAt, posted.timestamp],
      );
      return {
        paymentId,
        transactionId: posted.movementId,
        accountId,
        amount,
        cashbackAmount: cashback,
        cashbackDueAt: dueAt,
        status: 'IN_PROGRESS' as const,
        timestamp: posted.timestamp,
        balance: posted.balances.get(accountId)!,
      };
    });
  }

  /**
   * A payment with its current status. Settles what is due on its account first, so a read
   * that starts after `cashbackDueAt` never reports IN_PROGRESS.
   */
  async get(paymentId: string): Promise<PaymentDto> {
    let row = await this.find(paymentId);
    if (
      row.settled_at === null &&
      (await this.postings.settleDueBeforeRead({
        accountId: row.account_id,
        nextCashbackDueAt:
          row.next_cashback_due_at === null ? null : toSafeInteger(row.next_cashback_due_at),
      }))
    ) {
      row = await this.find(paymentId);
    }
    return {
      paymentId: row.payment_id,
      transactionId: row.movement_id,
      accountId: row.account_id,
      amount: toSafeInteger(row.amount),
      cashbackAmount: toSafeInteger(row.cashback_amount),
      cashbackDueAt: toSafeInteger(row.cashback_due_at),
      status: paymentStatus({
        settledAt: row.settled_at === null ? null : toSafeInteger(row.settled_at),
      }),
      timestamp: toSafeInteger(row.timestamp),
    };
  }

  private async find(paymentId: string): Promise<PaymentRow> {
    const notFound = () =>
      new DomainException('PAYMENT_NOT_FOUND', `Payment ${paymentId} does not exist.`);
    if (!PAYMENT_ID.test(paymentId)) throw notFound();
    const [row] = await this.dataSource.query<PaymentRow[]>(
      `SELECT p.payment_id, p.movement_id, p.account_id, p.amount, p.cashback_amount,
              p.cashback_due_at, p.timestamp, c.settled_at, a.next_cashback_due_at
         FROM payments AS p
         JOIN cashbacks AS c USING (payment_id)
         JOIN accounts AS a ON a.account_id = p.account_id
        WHERE p.payment_id = $1`,
      [paymentId],
    );
    if (!row) throw notFound();
    return row;
  }
}
