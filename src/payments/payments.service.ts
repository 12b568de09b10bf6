import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainException } from '../common/errors/domain.exception';
import { AppConfig } from '../config/app-config';
import type {
  PaymentCommand,
  PaymentFacts,
  RefundCommand,
  RefundFacts,
} from '../ledger/engine/commands';
import { LedgerEngine } from '../ledger/engine/ledger-engine';
import { AccountsRepository } from '../ledger/repositories/accounts.repository';
import { ScheduledCreditsRepository } from '../ledger/repositories/scheduled-credits.repository';
import { cashbackAmount, paymentStatus } from './cashback';
import {
  CreatePaymentDto,
  PaymentCreatedDto,
  PaymentDto,
  RefundCreatedDto,
} from './dto/payment.dto';
import { PaymentRefund } from './payment-refund.entity';
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
   * its `payments` row is written in the same batch, with the rate its cashback is computed at.
   */
  create({ accountId, amount }: CreatePaymentDto): Promise<PaymentCreatedDto> {
    const command = {
      kind: 'payment' as const,
      accountId,
      amount,
      ...this.charge(accountId, amount),
    };
    const rateBps = this.rateBps;
    return this.engine.submit(command, (r) => ({
      ...PaymentDto.from(newPayment(r, rateBps), 'IN_PROGRESS'),
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
    const rateBps = this.rateBps;
    return {
      credit: {
        amount: cashbackAmount(amount, rateBps),
        delayMs: this.delayMs,
        entryType: 'CASHBACK' as const,
      },
      record: (facts) => ({ entity: Payment, values: newPayment(facts, rateBps) }),
      resource: (facts) => PaymentDto.from(newPayment(facts, rateBps), 'IN_PROGRESS'),
    };
  }

  /**
   * A payment with its current status. Settles what is due on its account first, so a read
   * that starts after `cashbackDueAt` never reports IN_PROGRESS.
   */
  async get(paymentId: string): Promise<PaymentDto> {
    const payment = await this.find(paymentId);
    if (!payment) throw paymentNotFound(paymentId);
    // Settle first, then read the credit: a credit read before a concurrent settlement
    // committed would still look pending. A refund changes only the credit's amount, never
    // whether it is settled, so the status read from the two rows is always one that was.
    const account = await this.accounts.findById(payment.accountId);
    if (account) await this.engine.settleBeforeRead(account);
    const credit = await this.credits.findByReference(paymentId);
    const current = (await this.payments.findById(paymentId)) ?? payment;
    return toPaymentDto(current, credit?.settledAt ?? null);
  }

  /**
   * Refunds part or all (the default) of a payment. The payment's facts (account, amount) never
   * change, so they are read here; what does change (refunded so far, the cashback's state) is
   * read by the engine under the account's lock, so concurrent refunds never exceed the
   * payment. The refund row and the payment's new totals are written in the refund's batch.
   */
  async refund(paymentId: string, requested: number | undefined): Promise<RefundCreatedDto> {
    const payment = await this.find(paymentId);
    const rateBps = payment?.cashbackRateBps ?? 0;
    const refundId = randomUUID();
    const records = (facts: RefundFacts) => ({
      inserts: [
        {
          entity: PaymentRefund,
          values: {
            refundId,
            paymentId,
            movementId: facts.transactionId,
            amount: facts.amount,
            cashbackAdjustment: facts.cashbackAdjustment,
            timestamp: facts.timestamp,
          } satisfies PaymentRefund,
        },
      ],
      updates: [
        {
          entity: Payment,
          where: { paymentId },
          values: {
            refundedAmount: facts.refundedAmount,
            cashbackAmount: facts.cashbackAmount,
          } satisfies Partial<Payment>,
        },
      ],
    });
    // The payment as the refund leaves it: the answer's `payment` and the event's data.
    const afterRefund = (facts: RefundFacts) =>
      toPaymentDto(
        { ...payment!, refundedAmount: facts.refundedAmount, cashbackAmount: facts.cashbackAmount },
        facts.cashbackSettled ? facts.timestamp : null,
      );
    const command: RefundCommand = {
      kind: 'refund',
      paymentId,
      payment: payment
        ? { paymentId, accountId: payment.accountId, amount: payment.amount }
        : undefined,
      amount: requested,
      cashbackFor: (unrefunded) => cashbackAmount(unrefunded, rateBps),
      records,
      resource: (facts) => afterRefund(facts),
    };
    return this.engine.submit(command, (r) => ({
      refundId,
      paymentId,
      transactionId: r.transactionId,
      amount: r.amount,
      cashbackAdjustment: r.cashbackAdjustment,
      balance: r.balance,
      payment: afterRefund(r),
    }));
  }

  /** The payment, or null for an unknown or malformed id (answered alike: 404). */
  private async find(paymentId: string): Promise<Payment | null> {
    if (!PAYMENT_ID.test(paymentId)) return null;
    return this.payments.findById(paymentId);
  }
}

function paymentNotFound(paymentId: string): DomainException {
  return new DomainException('PAYMENT_NOT_FOUND', `Payment ${paymentId} does not exist.`);
}

/**
 * A new payment's `payments` row: nothing refunded, its cashback at the rate in force now. A
 * plain object that `satisfies Payment` (a LedgerRecord's values are a plain record).
 */
function newPayment(facts: PaymentFacts, cashbackRateBps: number) {
  return {
    paymentId: facts.paymentId,
    movementId: facts.transactionId,
    accountId: facts.accountId,
    amount: facts.amount,
    cashbackAmount: facts.creditAmount,
    cashbackRateBps,
    refundedAmount: 0,
    cashbackDueAt: facts.creditDueAt,
    timestamp: facts.timestamp,
  } satisfies Payment;
}

function toPaymentDto(payment: Payment, creditSettledAt: number | null): PaymentDto {
  return PaymentDto.from(payment, paymentStatus({ settledAt: creditSettledAt }, payment));
}
