import type { HoldState, LedgerCommand } from './commands';
import { holdResource } from './hold-resource';
import type { Effects } from './rules';
import { accountsOf, DAY_MS, decide, expireHolds, holdIdOf, releaseHold, utcDay } from './rules';
import { account, context, effects, lookupOf, refusal, T } from './rules.fixtures';

/** The hold rules of API.md v1.1, as pure functions. */

const authorize = (amount: number, targetAccountId: string | null = null): LedgerCommand => ({
  kind: 'authorizeHold',
  accountId: 'a',
  targetAccountId,
  amount,
  expiresInMs: 1000,
});

function held(overrides: Partial<HoldState> = {}): HoldState {
  return {
    holdId: 'hold_1',
    accountId: 'a',
    targetAccountId: null,
    amount: 300,
    status: 'AUTHORIZED',
    expiresAt: T + 1000,
    createdAt: T,
    capturedAmount: 0,
    captureMovementId: null,
    capturePaymentId: null,
    captureTimestamp: null,
    resolvedAt: null,
    ...overrides,
  };
}

const voidHold: LedgerCommand = { kind: 'voidHold', holdId: 'hold_1', accountIds: ['a'] };

const credit = { amount: 6, delayMs: 500, entryType: 'CASHBACK' as const };
const capture = (amount: number, payment = true): LedgerCommand => ({
  kind: 'captureHold',
  holdId: 'hold_1',
  accountIds: ['a', 'b'],
  amount,
  payment: payment
    ? {
        credit,
        record: (facts) => ({ entity: Object, values: { ...facts } }),
        resource: (facts) => ({ public: facts.paymentId }),
      }
    : undefined,
});

/** What a hold's own change (authorize, void) writes: no entry; the hold, and one event. */
function holdChange(hold: HoldState, type: string, accountIds: string[]): Effects<HoldState> {
  const event = { type, accountIds, occurredAt: T, data: holdResource(hold) };
  return { lines: [], credits: [], records: [], holds: [hold], result: hold, events: [event] };
}

describe('hold rules (pure)', () => {
  it('authorizing reserves the amount: held, counted for the day, no entry', () => {
    const d = decide(authorize(300), lookupOf(account('a', { balance: 1000 })), context);
    const e = effects(d);
    expect(e.lines).toEqual([]);
    expect(e.result).toEqual(
      held({ holdId: holdIdOf('m-1'), expiresAt: T + 1000, createdAt: T, amount: 300 }),
    );
    expect(d.ok && d.accounts[0]).toMatchObject({
      balance: 1000,
      heldAmount: 300,
      debitDay: utcDay(T),
      debitUsed: 300,
      nextHoldExpiresAt: T + 1000,
    });
  });

  it('authorizing writes the new hold, shows it to the rest of the batch and reports hold.created', () => {
    const d = decide(
      authorize(300, 'b'),
      lookupOf(account('a', { balance: 1000 }), account('b')),
      context,
    );
    const created = held({ holdId: holdIdOf('m-1'), targetAccountId: 'b' });
    expect(d.ok && d.holds).toEqual([created]);
    expect(d.ok && d.needsPaymentId).toBe(false);
    expect(effects(d)).toEqual(holdChange(created, 'hold.created', ['a', 'b']));
  });

  it('authorizing is refused as a debit would be, and checks its target', () => {
    const lookup = lookupOf(
      account('a', { balance: 100, heldAmount: 50 }),
      account('b'),
      account('e', { currency: 'EUR' }),
      account('c', { status: 'CLOSED' }),
    );
    expect(refusal(decide(authorize(51), lookup, context))).toBe('INSUFFICIENT_FUNDS');
    expect(refusal(decide(authorize(1, 'a'), lookup, context))).toBe('SAME_ACCOUNT');
    expect(refusal(decide(authorize(1, 'x'), lookup, context))).toBe('ACCOUNT_NOT_FOUND');
    expect(refusal(decide(authorize(1, 'e'), lookup, context))).toBe('CURRENCY_MISMATCH');
    expect(refusal(decide(authorize(1, 'c'), lookup, context))).toBe('ACCOUNT_CLOSED');
    expect(decide(authorize(50, 'b'), lookup, context).ok).toBe(true);
  });

  it('a payment capture releases the hold, books a PAYMENT of the captured amount and schedules its cashback', () => {
    const lookup = lookupOf(
      account('a', { balance: 1000, heldAmount: 300, debitDay: utcDay(T), debitUsed: 300 }),
    );
    const d = decide(capture(200), lookup, context, () => held());
    expect(d.ok && d.needsPaymentId).toBe(true);
    const e = effects(d, 'payment9');
    expect(e.lines.map((l) => [l.type, l.amount, l.balanceAfter, l.paymentId])).toEqual([
      ['PAYMENT', -200, 800, 'payment9'],
    ]);
    expect(e.credits).toEqual([
      { reference: 'payment9', accountId: 'a', amount: 6, dueAt: T + 500, entryType: 'CASHBACK' },
    ]);
    expect(e.holds).toEqual([
      held({
        status: 'CAPTURED',
        capturedAmount: 200,
        captureMovementId: 'm-1',
        capturePaymentId: 'payment9',
        captureTimestamp: T,
        resolvedAt: T,
      }),
    ]);
    // The day counted the hold's 300; now it counts the 200 booked instead.
    expect(d.ok && d.accounts[0]).toMatchObject({
      heldAmount: 0,
      debitUsed: 200,
      pendingCredits: 6,
    });
  });

  it('a capture is not refused for a freeze or the daily limit, but a closed target refuses it', () => {
    const frozen = account('a', {
      balance: 300,
      heldAmount: 300,
      status: 'FROZEN',
      dailyDebitLimit: 1,
      debitDay: utcDay(T) - 1,
      debitUsed: 300,
    });
    const d = decide(capture(300, false), lookupOf(frozen, account('b')), context, () =>
      held({ targetAccountId: 'b' }),
    );
    expect(effects(d).lines.map((l) => [l.accountId, l.type, l.amount])).toEqual([
      ['a', 'TRANSFER_OUT', -300],
      ['b', 'TRANSFER_IN', 300],
    ]);
    expect(d.ok && d.accounts.find((x) => x.accountId === 'a')).toMatchObject({
      balance: 0,
      heldAmount: 0,
      debitDay: utcDay(T),
      debitUsed: 300,
    });
    const closed = decide(
      capture(300, false),
      lookupOf(frozen, account('b', { status: 'CLOSED' })),
      context,
      () => held({ targetAccountId: 'b' }),
    );
    expect(refusal(closed)).toBe('ACCOUNT_CLOSED');
  });

  it('a capture to a target reports hold.captured, with no payment', () => {
    const lookup = lookupOf(account('a', { balance: 300, heldAmount: 300 }), account('b'));
    const d = decide(capture(120, false), lookup, context, () => held({ targetAccountId: 'b' }));
    expect(d.ok && d.needsPaymentId).toBe(false);
    const done = held({
      targetAccountId: 'b',
      status: 'CAPTURED',
      capturedAmount: 120,
      captureMovementId: 'm-1',
      captureTimestamp: T,
      resolvedAt: T,
    });
    expect(d.ok && d.holds).toEqual([done]);
    const e = effects(d);
    expect(e.holds).toEqual([done]);
    expect(e.credits).toEqual([]);
    expect(e.records).toEqual([]);
    expect(e.result).toEqual({
      transactionId: 'm-1',
      timestamp: T,
      balance: 180,
      hold: done,
      paymentId: null,
      payment: null,
    });
    expect(e.events).toEqual([
      { type: 'hold.captured', accountIds: ['a', 'b'], occurredAt: T, data: holdResource(done) },
    ]);
  });

  it('a payment capture reports payment.created, then hold.captured', () => {
    const lookup = lookupOf(account('a', { balance: 1000, heldAmount: 300 }));
    const e = effects(
      decide(capture(200), lookup, context, () => held()),
      'payment9',
    );
    expect(e.events?.map((event) => event.type)).toEqual(['payment.created', 'hold.captured']);
    expect(e.result).toMatchObject({ paymentId: 'payment9', balance: 800 });
  });

  it('a payment hold cannot be captured without its payment (a programming error)', () => {
    const lookup = lookupOf(account('a', { balance: 1000, heldAmount: 300 }));
    const noPayment = { ...capture(200), payment: undefined };
    expect(() => decide(noPayment, lookup, context, () => held())).toThrow(/needs its payment/);
  });

  it('voiding releases the whole amount, books nothing and reports hold.voided', () => {
    const a = account('a', { balance: 1000, heldAmount: 300, debitDay: utcDay(T), debitUsed: 300 });
    const d = decide(voidHold, lookupOf(a), context, () => held());
    const voided = held({ status: 'VOIDED', resolvedAt: T });
    expect(d.ok && d.accounts).toEqual([{ ...a, heldAmount: 0, debitUsed: 0 }]);
    expect(d.ok && d.holds).toEqual([voided]);
    expect(d.ok && d.needsPaymentId).toBe(false);
    expect(effects(d)).toEqual(holdChange(voided, 'hold.voided', ['a']));
  });

  it('locks the hold account, and the target only when there is one', () => {
    expect(accountsOf(authorize(1))).toEqual(['a']);
    expect(accountsOf(authorize(1, 'b'))).toEqual(['a', 'b']);
    expect(accountsOf(capture(1))).toEqual(['a', 'b']);
    expect(accountsOf(voidHold)).toEqual(['a']);
  });

  it('refuses what is not an active hold, and more than the hold', () => {
    const lookup = lookupOf(account('a', { balance: 1000, heldAmount: 300 }));
    expect(refusal(decide(capture(1), lookup, context, () => undefined))).toBe('HOLD_NOT_FOUND');
    expect(refusal(decide(capture(301), lookup, context, () => held()))).toBe(
      'CAPTURE_EXCEEDS_HOLD',
    );
    for (const status of ['CAPTURED', 'VOIDED', 'EXPIRED'] as const) {
      const h = () => held({ status, resolvedAt: T });
      expect(refusal(decide(capture(1), lookup, context, h))).toBe('HOLD_NOT_ACTIVE');
      expect(refusal(decide(voidHold, lookup, context, h))).toBe('HOLD_NOT_ACTIVE');
    }
  });

  it('releasing takes the hold out of the day only on the day it was authorized', () => {
    const today = account('a', { heldAmount: 300, debitDay: utcDay(T), debitUsed: 500 });
    expect(releaseHold(today, held())).toMatchObject({ heldAmount: 0, debitUsed: 200 });
    const tomorrow = { ...today, debitDay: utcDay(T + DAY_MS), debitUsed: 40 };
    expect(releaseHold(tomorrow, held())).toMatchObject({ heldAmount: 0, debitUsed: 40 });
  });

  it('expiry releases each due hold as of its expiresAt and sets the next expiry', () => {
    const a = account('a', { heldAmount: 500, debitDay: utcDay(T), debitUsed: 500 });
    const due = [
      held({ holdId: 'h1', amount: 200 }),
      held({ holdId: 'h2', amount: 100, expiresAt: T + 900 }),
    ];
    const result = expireHolds(a, due, T + 5000);
    expect(result.account).toMatchObject({
      heldAmount: 200,
      debitUsed: 200,
      nextHoldExpiresAt: T + 5000,
    });
    expect(result.holds.map((h) => [h.holdId, h.status, h.resolvedAt])).toEqual([
      ['h1', 'EXPIRED', T + 1000],
      ['h2', 'EXPIRED', T + 900],
    ]);
  });
});
