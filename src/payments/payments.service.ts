import { Injectable } from '@nestjs/common';
import { DomainException } from '../common/errors/domain.exception';
import { AppConfig } from '../config/app-config';
import type { PaymentCommand, PaymentFacts } from '../ledger/engine/commands';
import { LedgerEngine } from '../ledger/engine/ledger-engine';
import { AccountsRepository } from '../ledger/repositories/accounts.repository';
import { ScheduledCreditsRepository } from '../ledger/repositories/scheduled-credits.repository';
import { cashbackAmount, paymentStatus } from './cashback';
import { CreatePaymentDto, PaymentCreatedDto, PaymentDto } from './dto/payment.dto';
import { Payment } from './payment.entity';
import { PaymentsRepository } from './payments.repository';

/** `payment` + a positive integer without leading zeros, as `payment_seq` hands them out. */
const PAYMENT_ID = /^payment[1-9][0-9]{0,18}$/;

@Injectable()
export class PaymentsService {
  private readonly rateBps: number;
  private readonly delayMs: number;

  constructor(
    private readonly engine: LedgerEngine,
    private readonly payments: PaymentsRepository,
    private readonly credits: ScheduledCreditsRepository,
    private readonly accounts: AccountsRepository,
    config: AppConfig,
  ) {
    this.rateBps = config.get('CASHBACK_RATE_BPS');
    this.delayMs = config.get('CASHBACK_DELAY_MS');
  }

  /**
   * A payment is a ledger command: debit the account and schedule the cashback as a credit
   * due CASHBACK_DELAY_MS later. Its payment id is drawn only once the payment is accepted, and
   * its `payments` row is written in the same batch.
   */
  create({ accountId, amount }: CreatePaymentDto): Promise<PaymentCreatedDto> {
    const command = {
      kind: 'payment' as const,
      accountId,
      amount,
      ...this.charge(accountId, amount),
    };
    return this.engine.submit(command, (r) => ({
      ...PaymentDto.from(paymentRow(r), 'IN_PROGRESS'),
      balance: r.balance,
    }));
  }

  /**
   * What a payment of `amount` from the account adds to its debit: the cashback credit to
   * schedule, and the `payments` row and the public Payment (the `payment.created` data), built
   * from the decided facts. Used by POST /payments and
   * by the capture of a hold without a target (a payment on the captured amount).
   */
  charge(
    accountId: string,
    amount: number,
  ): Pick<PaymentCommand, 'credit' | 'record' | 'resource'> {
    return {
      credit: {
        amount: cashbackAmount(amount, this.rateBps),
        delayMs: this.delayMs,
        entryType: 'CASHBACK' as const,
      },
      record: (facts: PaymentFacts) => ({
        entity: Payment,
        values: { ...paymentRow(facts) } satisfies Payment,
      }),
      resource: (facts: PaymentFacts) => PaymentDto.from(paymentRow(facts), 'IN_PROGRESS'),
    };
  }

  /**
   * A payment with its current status. Settles what is due on its account first, so a read
   * that starts after `cashbackDueAt` never reports IN_PROGRESS.
   */
  async get(paymentId: string): Promise<PaymentDto> {
    const notFound = () =>
      new DomainException('PAYMENT_NOT_FOUND', `Payment ${paymentId} does not exist.`);
    if (!PAYMENT_ID.test(paymentId)) throw notFound();
    const payment = await this.payments.findById(paymentId);
    if (!payment) throw notFound();
    // Settle first, then read the credit: a credit read before a concurrent settlement
    // committed would still look pending.
    const account = await this.accounts.findById(payment.accountId);
    if (account) await this.engine.settleBeforeRead(account);
    const credit = await this.credits.findByReference(paymentId);
    return PaymentDto.from(payment, paymentStatus({ settledAt: credit?.settledAt ?? null }));
  }
}

/** The `payments` row of a decided payment. */
function paymentRow(facts: PaymentFacts): Payment {
  return {
    paymentId: facts.paymentId,
    movementId: facts.transactionId,
    accountId: facts.accountId,
    amount: facts.amount,
    cashbackAmount: facts.creditAmount,
    cashbackDueAt: facts.creditDueAt,
    timestamp: facts.timestamp,
  };
}
