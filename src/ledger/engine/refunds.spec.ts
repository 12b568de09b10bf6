import fc from 'fast-check';
import { DomainException } from '../../common/errors/domain.exception';
import { MAX_AMOUNT, MAX_BALANCE } from '../../common/money';
import { cashbackAmount } from '../../payments/cashback';
import { account } from './rules.fixtures';
import type {
  AccountState,
  OriginalLine,
  RefundableState,
  RefundCommand,
  RefundFacts,
  ReversalCommand,
} from './commands';
import {
  accountsOf,
  AccountLookup,
  afterCreditSettled,
  decide,
  Decision,
  Effects,
  RelatedLookup,
  refundOf,
  reversalOf,
} from './rules';

const T = 1_763_700_000_000;
const context = { timestamp: T, movementId: 'm-refund' };

function lookupOf(...accounts: AccountState[]): AccountLookup {
  const byId = new Map(accounts.map((a) => [a.accountId, a]));
  return (id) => byId.get(id);
}

function related(refundables: RefundableState[] = [], reversed: [string, number][] = []) {
  const byPayment = new Map(refundables.map((r) => [r.paymentId, r]));
  const byMovement = new Map(reversed);
  return {
    refundable: (id: string) => byPayment.get(id),
    reversed: (id: string) => byMovement.get(id) ?? 0,
  } satisfies RelatedLookup;
}

function refusal(decision: Decision<unknown>): { code: string; detail: string } {
  if (decision.ok) throw new Error('expected a refusal');
  expect(decision.error).toBeInstanceOf(DomainException);
  return { code: decision.error.code, detail: decision.error.detail };
}

function effects<R>(decision: Decision<R>): Effects<R> {
  if (!decision.ok) throw new Error(`refused: ${decision.error.code} ${decision.error.detail}`);
  return decision.finish(undefined);
}

/** A refund of payment p1 (amount `paid`, rate `rateBps`) from account a. */
function refund(amount: number | undefined, paid = 10_000, rateBps = 200): RefundCommand {
  return {
    kind: 'refund',
    paymentId: 'p1',
    payment: { paymentId: 'p1', accountId: 'a', amount: paid },
    amount,
    cashbackFor: (unrefunded) => cashbackAmount(unrefunded, rateBps),
    resource: (facts: RefundFacts) => ({ public: facts.paymentId, refunded: facts.refundedAmount }),
    records: (facts: RefundFacts) => ({
      inserts: [{ entity: Object, values: { kind: 'refund', ...facts } }],
      updates: [{ entity: Object, where: { paymentId: facts.paymentId }, values: { ...facts } }],
    }),
  };
}

/** Payment p1 of 10000 at 2 %: cashback 200, pending or credited. */
const pending = (refunded = 0, cashback = 200): RefundableState => ({
  paymentId: 'p1',
  refunded,
  cashback,
  cashbackSettled: false,
});
const credited = (refunded = 0, cashback = 200): RefundableState => ({
  ...pending(refunded, cashback),
  cashbackSettled: true,
});

describe('refund rules (pure)', () => {
  it('before the due time: a REFUND line, the pending credit shrinks, no adjustment', () => {
    const a = account('a', { balance: 500, pendingCredits: 200, nextCreditDueAt: T + 10 });
    const d = decide(refund(4000), lookupOf(a), context, undefined, related([pending()]));
    const e = effects(d);
    expect(e.lines).toEqual([
      {
        movementId: 'm-refund',
        accountId: 'a',
        type: 'REFUND',
        amount: 4000,
        balanceAfter: 4500,
        timestamp: T,
        counterpartyAccountId: null,
        paymentId: 'p1',
      },
    ]);
    // floor(6000 × 2 %) = 120: the credit shrinks by 80, and so does the reserved room.
    expect(e.creditChanges).toEqual([{ reference: 'p1', amount: 120 }]);
    expect(d.ok && d.accounts).toEqual([
      { ...a, balance: 4500, pendingCredits: 120, lastEntryAt: T },
    ]);
    expect(e.result).toEqual({
      paymentId: 'p1',
      transactionId: 'm-refund',
      accountId: 'a',
      amount: 4000,
      cashbackAdjustment: 0,
      refundedAmount: 4000,
      cashbackAmount: 120,
      cashbackSettled: false,
      timestamp: T,
      balance: 4500,
    });
    expect(d.ok && d.refundables).toEqual([
      { paymentId: 'p1', refunded: 4000, cashback: 120, cashbackSettled: false },
    ]);
    // A refund draws no payment id.
    expect(d.ok && d.needsPaymentId).toBe(false);
    expect(e.records).toEqual([
      { entity: Object, values: expect.objectContaining({ kind: 'refund', amount: 4000 }) },
    ]);
    expect(e.updates).toEqual([
      {
        entity: Object,
        where: { paymentId: 'p1' },
        values: expect.objectContaining({ refundedAmount: 4000, cashbackAmount: 120 }),
      },
    ]);
  });

  it('a full refund before the due time brings the credit to 0: it books nothing', () => {
    const a = account('a', { balance: 0, pendingCredits: 200, nextCreditDueAt: T + 10 });
    const d = decide(refund(undefined), lookupOf(a), context, undefined, related([pending()]));
    const e = effects(d);
    expect(e.lines.map((l) => [l.type, l.amount])).toEqual([['REFUND', 10_000]]);
    expect(e.creditChanges).toEqual([{ reference: 'p1', amount: 0 }]);
    expect(d.ok && d.accounts[0]).toMatchObject({ balance: 10_000, pendingCredits: 0 });
    expect(e.result).toMatchObject({
      amount: 10_000,
      cashbackAdjustment: 0,
      refundedAmount: 10_000,
      cashbackAmount: 0,
      cashbackSettled: false,
    });
  });

  it('after the due time: REFUND then CASHBACK_REVERSAL of the difference, in one movement', () => {
    const a = account('a', { balance: 50 });
    const d = decide(refund(2550), lookupOf(a), context, undefined, related([credited()]));
    const e = effects(d);
    // 200 credited; floor(7450 × 2 %) = 149 is the new cashback: 51 reversed.
    expect(e.lines.map((l) => [l.type, l.amount, l.balanceAfter, l.paymentId])).toEqual([
      ['REFUND', 2550, 2600, 'p1'],
      ['CASHBACK_REVERSAL', -51, 2549, 'p1'],
    ]);
    expect(new Set(e.lines.map((l) => l.movementId))).toEqual(new Set(['m-refund']));
    expect(e.creditChanges).toEqual([]);
    expect(e.result).toMatchObject({ cashbackAdjustment: 51, cashbackAmount: 149, balance: 2549 });
  });

  it('a full refund after the due time reverses the whole cashback', () => {
    const a = account('a', { balance: 0 });
    const e = effects(
      decide(refund(undefined), lookupOf(a), context, undefined, related([credited()])),
    );
    expect(e.lines.map((l) => [l.type, l.amount, l.balanceAfter])).toEqual([
      ['REFUND', 10_000, 10_000],
      ['CASHBACK_REVERSAL', -200, 9800],
    ]);
    expect(e.result).toMatchObject({ cashbackAdjustment: 200, cashbackAmount: 0 });
  });

  it('books no CASHBACK_REVERSAL when the cashback does not change', () => {
    // floor(9999 × 2 %) = 199: refunding 1 of 10000 lowers 200 to 199; of 9999, 199 stays.
    const a = account('a', { balance: 0 });
    const e = effects(
      decide(refund(1), lookupOf(a), context, undefined, related([credited(1, 199)])),
    );
    expect(e.lines.map((l) => l.type)).toEqual(['REFUND']);
    expect(e.result).toMatchObject({ cashbackAdjustment: 0, cashbackAmount: 199 });
  });

  it('refuses an unknown payment, a fully refunded one, and more than is left', () => {
    const a = lookupOf(account('a'));
    expect(
      refusal(decide({ ...refund(1), payment: undefined }, a, context, undefined, related())),
    ).toEqual({
      code: 'PAYMENT_NOT_FOUND',
      detail: 'Payment p1 does not exist.',
    });
    expect(refusal(decide(refund(1), a, context, undefined, related())).code).toBe(
      'PAYMENT_NOT_FOUND',
    );
    expect(
      refusal(decide(refund(1), a, context, undefined, related([credited(10_000, 0)]))),
    ).toEqual({
      code: 'PAYMENT_FULLY_REFUNDED',
      detail: 'Payment p1 is already fully refunded (10000).',
    });
    expect(
      refusal(decide(refund(undefined), a, context, undefined, related([credited(10_000, 0)])))
        .code,
    ).toBe('PAYMENT_FULLY_REFUNDED');
    expect(
      refusal(decide(refund(6001), a, context, undefined, related([pending(4000, 120)]))),
    ).toEqual({
      code: 'REFUND_EXCEEDS_PAYMENT',
      detail: 'Payment p1 has 6000 left to refund, not 6001.',
    });
    expect(
      refusal(decide(refund(1), lookupOf(), context, undefined, related([pending()]))).code,
    ).toBe('ACCOUNT_NOT_FOUND');
  });

  it('runs the balance rules on its lines: BALANCE_LIMIT_EXCEEDED near 2^53−1', () => {
    const full = account('a', { balance: MAX_BALANCE - 100 });
    expect(
      refusal(decide(refund(101), lookupOf(full), context, undefined, related([credited()]))).code,
    ).toBe('BALANCE_LIMIT_EXCEEDED');
    // Before the due time the shrunk credit frees its room first. At 100 %, 10000 reserved:
    // refunding 5000 leaves 5000 reserved, and MAX − 10000 + 5000 + 5000 fits exactly.
    const reserved = account('a', { balance: MAX_BALANCE - 10_000, pendingCredits: 10_000 });
    const fits = decide(
      refund(5000, 10_000, 10_000),
      lookupOf(reserved),
      context,
      undefined,
      related([pending(0, 10_000)]),
    );
    expect(fits.ok && fits.accounts[0]).toMatchObject({
      balance: MAX_BALANCE - 5000,
      pendingCredits: 5000,
    });
    const over = decide(
      refund(5000, 10_000, 10_000),
      lookupOf({ ...reserved, balance: MAX_BALANCE - 9999 }),
      context,
      undefined,
      related([pending(0, 10_000)]),
    );
    expect(refusal(over).code).toBe('BALANCE_LIMIT_EXCEEDED');
  });

  it('locks the payment account, and loads the payment state, only for a known payment', () => {
    expect(accountsOf(refund(1))).toEqual(['a']);
    expect(accountsOf({ ...refund(1), payment: undefined })).toEqual([]);
    expect(refundOf(refund(1))).toBe('p1');
    expect(refundOf({ ...refund(1), payment: undefined })).toBeUndefined();
    expect(refundOf({ kind: 'deposit', accountId: 'a', amount: 1 })).toBeUndefined();
  });

  it('a credit the batch settles makes the refund state credited with the booked amount', () => {
    expect(afterCreditSettled(pending(4000, 120), 120)).toEqual(credited(4000, 120));
    expect(afterCreditSettled(credited(0, 200), 999)).toEqual(credited(0, 200));
  });

  /**
   * Any payment, any rate 0 … 10000 bps, any sequence of partial refunds with the cashback's
   * due time at any point among them: every refund raises the balance (or keeps it), the
   * refunds never exceed the payment, the cashback is always floor(unrefunded × rate), and the
   * balance ends at start + refunds − (cashback credited − cashback now).
   */
  it('property: a refund never lowers the balance, at any rate', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_AMOUNT }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat({ max: 8 }),
        fc.nat({ max: 1_000_000 }),
        (paid, rateBps, fractions, dueAfter, start) => {
          let acc = account('a', { balance: start });
          let state: RefundableState = pending(0, cashbackAmount(paid, rateBps));
          acc = { ...acc, pendingCredits: state.cashback };
          let settledWith: number | undefined;
          fractions.forEach((fraction, i) => {
            if (i === dueAfter && !state.cashbackSettled) {
              // The batch settles the credit: booked as it stands.
              settledWith = state.cashback;
              acc = {
                ...acc,
                balance: acc.balance + state.cashback,
                pendingCredits: acc.pendingCredits - state.cashback,
              };
              state = afterCreditSettled(state, state.cashback);
            }
            const left = paid - state.refunded;
            const amount =
              fraction === undefined ? undefined : Math.max(1, Math.floor(left * fraction));
            const d = decide(
              refund(amount, paid, rateBps),
              lookupOf(acc),
              context,
              undefined,
              related([state]),
            );
            if (left === 0) {
              expect(refusal(d).code).toBe('PAYMENT_FULLY_REFUNDED');
              return;
            }
            const e = effects(d);
            if (!d.ok) throw new Error(d.error.detail);
            const after = d.accounts[0];
            const result = e.result as RefundFacts & { balance: number };
            expect(after.balance).toBeGreaterThanOrEqual(acc.balance);
            expect(result.cashbackAdjustment).toBeLessThanOrEqual(result.amount);
            expect(result.refundedAmount).toBeLessThanOrEqual(paid);
            expect(result.cashbackAmount).toBe(
              cashbackAmount(paid - result.refundedAmount, rateBps),
            );
            expect(after.balance - acc.balance).toBe(result.amount - result.cashbackAdjustment);
            expect(after.pendingCredits).toBeGreaterThanOrEqual(0);
            acc = after;
            state = d.refundables![0];
          });
          const cashbackNow = cashbackAmount(paid - state.refunded, rateBps);
          const creditedNet = settledWith === undefined ? 0 : cashbackNow;
          expect(acc.balance).toBe(start + state.refunded + creditedNet);
          if (settledWith === undefined && state.refunded < paid) {
            expect(acc.pendingCredits).toBe(cashbackNow);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

const DEPOSIT: OriginalLine[] = [
  { accountId: 'a', type: 'DEPOSIT', amount: 1000, counterpartyAccountId: null },
];
const WITHDRAWAL: OriginalLine[] = [
  { accountId: 'a', type: 'WITHDRAWAL', amount: -1000, counterpartyAccountId: null },
];
const TRANSFER: OriginalLine[] = [
  { accountId: 'a', type: 'TRANSFER_OUT', amount: -1000, counterpartyAccountId: 'b' },
  { accountId: 'b', type: 'TRANSFER_IN', amount: 1000, counterpartyAccountId: 'a' },
];

function reversal(original: OriginalLine[], amount?: number): ReversalCommand {
  return { kind: 'reversal', transactionId: 't-1', original, amount };
}

describe('reversal rules (pure)', () => {
  const ctx = { timestamp: T, movementId: 'm-rev' };

  it('reverses a deposit with a negative REVERSAL line pointing at it', () => {
    const d = decide(reversal(DEPOSIT, 400), lookupOf(account('a', { balance: 1000 })), ctx);
    const e = effects(d);
    expect(e.lines).toEqual([
      {
        movementId: 'm-rev',
        accountId: 'a',
        type: 'REVERSAL',
        amount: -400,
        balanceAfter: 600,
        timestamp: T,
        counterpartyAccountId: null,
        paymentId: null,
        reversedTransactionId: 't-1',
      },
    ]);
    expect(d.ok && d.reversed).toEqual([{ transactionId: 't-1', reversed: 400 }]);
    expect(d.ok && d.needsPaymentId).toBe(false);
    expect(e.resultWithEntryIds!(['41'])).toEqual({
      transactionId: 'm-rev',
      reversedTransactionId: 't-1',
      amount: 400,
      timestamp: T,
      entries: [{ ...e.lines[0], entryId: '41' }],
    });
  });

  it('reverses a withdrawal with a positive line', () => {
    const e = effects(decide(reversal(WITHDRAWAL), lookupOf(account('a')), ctx));
    expect(e.lines.map((l) => [l.type, l.amount, l.balanceAfter])).toEqual([
      ['REVERSAL', 1000, 1000],
    ]);
  });

  it('reverses a transfer: the target debited first, each line with its counterparty', () => {
    const accounts = lookupOf(account('a', { balance: 0 }), account('b', { balance: 1000 }));
    const d = decide(reversal(TRANSFER, 300), accounts, ctx);
    const e = effects(d);
    expect(
      e.lines.map((l) => [l.accountId, l.type, l.amount, l.balanceAfter, l.counterpartyAccountId]),
    ).toEqual([
      ['b', 'REVERSAL', -300, 700, 'a'],
      ['a', 'REVERSAL', 300, 300, 'b'],
    ]);
    expect(e.resultWithEntryIds!(['7', '8']).entries.map((x) => x.entryId)).toEqual(['7', '8']);
    expect(accountsOf(reversal(TRANSFER))).toEqual(['a', 'b']);
    expect(reversalOf(reversal(TRANSFER))).toBe('t-1');
    expect(reversalOf(reversal([]))).toBeUndefined();
  });

  it('runs the balance rules: the target must still hold the money', () => {
    const accounts = lookupOf(account('a'), account('b', { balance: 299 }));
    expect(refusal(decide(reversal(TRANSFER, 300), accounts, ctx))).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      detail: 'Account b has 299, needs 300.',
    });
  });

  it('partial reversals add up to the original, never more; the default is what is left', () => {
    const accounts = lookupOf(account('a', { balance: 5000 }));
    const rel = related([], [['t-1', 700]]);
    expect(refusal(decide(reversal(DEPOSIT, 301), accounts, ctx, undefined, rel))).toEqual({
      code: 'REVERSAL_EXCEEDS_REMAINING',
      detail: 'Transaction t-1 has 300 of 1000 left to reverse, not 301.',
    });
    const rest = decide(reversal(DEPOSIT), accounts, ctx, undefined, rel);
    expect(effects(rest).lines[0].amount).toBe(-300);
    expect(rest.ok && rest.reversed).toEqual([{ transactionId: 't-1', reversed: 1000 }]);
    const done = related([], [['t-1', 1000]]);
    expect(refusal(decide(reversal(DEPOSIT), accounts, ctx, undefined, done)).code).toBe(
      'REVERSAL_EXCEEDS_REMAINING',
    );
  });

  it('refuses an unknown movement, and every movement but a deposit, withdrawal or transfer', () => {
    const accounts = lookupOf(account('a', { balance: 5000 }), account('b', { balance: 5000 }));
    expect(refusal(decide(reversal([]), accounts, ctx))).toEqual({
      code: 'TRANSACTION_NOT_FOUND',
      detail: 'Transaction t-1 does not exist.',
    });
    const line = (type: OriginalLine['type'], amount: number): OriginalLine => ({
      accountId: 'a',
      type,
      amount,
      counterpartyAccountId: null,
    });
    for (const original of [
      [line('PAYMENT', -100)],
      [line('CASHBACK', 2)],
      [line('REFUND', 100)],
      [line('REFUND', 100), line('CASHBACK_REVERSAL', -2)],
      [line('REVERSAL', -100)],
      [line('REVERSAL', -100), line('REVERSAL', 100)],
    ]) {
      expect(refusal(decide(reversal(original), accounts, ctx)).code).toBe('NOT_REVERSIBLE');
    }
    expect(refusal(decide(reversal([line('PAYMENT', -100)]), accounts, ctx)).detail).toBe(
      'Transaction t-1 (PAYMENT) cannot be reversed: only deposits, withdrawals and transfers can (payments are refunded).',
    );
  });

  it('property: however a movement is reversed in parts, the parts never exceed it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(DEPOSIT, WITHDRAWAL, TRANSFER),
        fc.array(fc.option(fc.integer({ min: 1, max: 1500 }), { nil: undefined }), {
          maxLength: 10,
        }),
        (original, amounts) => {
          let a = account('a', { balance: 10_000 });
          let b = account('b', { balance: 10_000 });
          let reversed = 0;
          for (const amount of amounts) {
            const d = decide(
              reversal(original, amount),
              lookupOf(a, b),
              ctx,
              undefined,
              related([], [['t-1', reversed]]),
            );
            const left = 1000 - reversed;
            if (left === 0 || (amount ?? left) > left) {
              expect(refusal(d).code).toBe('REVERSAL_EXCEEDS_REMAINING');
              continue;
            }
            if (!d.ok) throw new Error(d.error.detail);
            reversed = d.reversed![0].reversed;
            for (const acc of d.accounts) {
              if (acc.accountId === 'a') a = acc;
              else b = acc;
            }
            const applied = amount ?? left;
            const total = effects(d).lines.reduce((sum, l) => sum + l.amount, 0);
            expect(total).toBe(
              original === TRANSFER ? 0 : original === DEPOSIT ? -applied : applied,
            );
          }
          expect(reversed).toBeLessThanOrEqual(1000);
          const sign = original === DEPOSIT ? -1 : original === WITHDRAWAL ? 1 : 0;
          expect(a.balance).toBe(10_000 + (sign === 0 ? reversed : sign * reversed));
          if (original === TRANSFER) expect(b.balance).toBe(10_000 - reversed);
        },
      ),
    );
  });
});
