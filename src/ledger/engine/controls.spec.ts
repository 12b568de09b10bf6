import fc from 'fast-check';
import type { AccountState, LedgerCommand } from './commands';
import { availableBalance, DAY_MS, decide, utcDay } from './rules';
import { account, context, effects, lookupOf, payment, refusal, T } from './rules.fixtures';

/** The account controls of API.md v1.1: overdraft, daily debit limit, status. */

const withdraw = (accountId: string, amount: number): LedgerCommand => ({
  kind: 'withdrawal',
  accountId,
  amount,
});
const transfer = (source: string, target: string, amount: number): LedgerCommand => ({
  kind: 'transfer',
  sourceAccountId: source,
  targetAccountId: target,
  amount,
});

function detail(decision: ReturnType<typeof decide>): string {
  if (decision.ok) throw new Error('expected a refusal');
  return decision.error.detail;
}

describe('account controls (pure rules)', () => {
  describe('overdraft limit and held amount', () => {
    it('lets the balance go down to exactly −overdraftLimit, never one unit below', () => {
      const lookup = lookupOf(account('a', { balance: 100, overdraftLimit: 50 }));
      const at = effects(decide(withdraw('a', 150), lookup, context));
      expect(at.lines[0].balanceAfter).toBe(-50);
      const below = decide(withdraw('a', 151), lookup, context);
      expect(refusal(below)).toBe('INSUFFICIENT_FUNDS');
      expect(detail(below)).toBe(
        'Account a has 150 available (balance 100, overdraft limit 50, held 0), needs 151.',
      );
    });

    it('keeps held funds out of reach of every debit', () => {
      const lookup = lookupOf(
        account('a', { balance: 100, overdraftLimit: 20, heldAmount: 70 }),
        account('b'),
      );
      expect(availableBalance(lookup('a')!)).toBe(50);
      expect(effects(decide(withdraw('a', 50), lookup, context)).lines[0].balanceAfter).toBe(50);
      expect(refusal(decide(withdraw('a', 51), lookup, context))).toBe('INSUFFICIENT_FUNDS');
      expect(refusal(decide(transfer('a', 'b', 51), lookup, context))).toBe('INSUFFICIENT_FUNDS');
      expect(refusal(decide(payment('a', 51), lookup, context))).toBe('INSUFFICIENT_FUNDS');
    });

    it('keeps the v1 wording for an account without overdraft or holds', () => {
      const refused = decide(withdraw('a', 101), lookupOf(account('a', { balance: 100 })), context);
      expect(detail(refused)).toBe('Account a has 100, needs 101.');
    });
  });

  describe('daily debit limit', () => {
    const day = utcDay(T);

    it('counts withdrawals, outgoing transfers and payments, exact at the boundary', () => {
      let state = account('a', { balance: 10_000, dailyDebitLimit: 600 });
      const b = account('b');
      const run = (command: LedgerCommand) => {
        const d = decide(command, lookupOf(state, b), context);
        if (d.ok) state = d.accounts.find((x) => x.accountId === 'a')!;
        return d;
      };
      expect(run(withdraw('a', 100)).ok).toBe(true);
      expect(run(transfer('a', 'b', 200)).ok).toBe(true);
      expect(run(payment('a', 300)).ok).toBe(true);
      expect(state).toMatchObject({ debitDay: day, debitUsed: 600, balance: 9_400 });
      const over = run(withdraw('a', 1));
      expect(refusal(over)).toBe('DAILY_LIMIT_EXCEEDED');
      expect(detail(over)).toBe(
        'Account a may debit 0 more today (daily debit limit 600, 600 used); needs 1.',
      );
    });

    it('says how much is left', () => {
      const lookup = lookupOf(
        account('a', { balance: 1000, dailyDebitLimit: 500, debitDay: day, debitUsed: 420 }),
      );
      expect(detail(decide(withdraw('a', 81), lookup, context))).toBe(
        'Account a may debit 80 more today (daily debit limit 500, 420 used); needs 81.',
      );
      expect(effects(decide(withdraw('a', 80), lookup, context)).lines[0].balanceAfter).toBe(920);
    });

    it("does not count credits or the target's side of a transfer", () => {
      const lookup = lookupOf(
        account('a', { balance: 1000 }),
        account('b', { dailyDebitLimit: 1, debitDay: day, debitUsed: 1 }),
      );
      const d = decide(transfer('a', 'b', 500), lookup, context);
      expect(d.ok && d.accounts.find((x) => x.accountId === 'b')).toMatchObject({
        balance: 500,
        debitUsed: 1,
      });
      expect(decide({ kind: 'deposit', accountId: 'b', amount: 5 }, lookup, context).ok).toBe(true);
    });

    it('starts from zero on a new UTC day', () => {
      const lookup = lookupOf(
        account('a', { balance: 1000, dailyDebitLimit: 500, debitDay: day, debitUsed: 500 }),
      );
      const lastMs = { ...context, timestamp: (day + 1) * DAY_MS - 1 };
      expect(refusal(decide(withdraw('a', 1), lookup, lastMs))).toBe('DAILY_LIMIT_EXCEEDED');
      const midnight = { ...context, timestamp: (day + 1) * DAY_MS };
      const d = decide(withdraw('a', 500), lookup, midnight);
      expect(d.ok && d.accounts[0]).toMatchObject({ debitDay: day + 1, debitUsed: 500 });
    });

    it('never lets usage pass the limit, nor the balance pass −overdraftLimit (property)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 500 }),
          fc.option(fc.integer({ min: 1, max: 800 }), { nil: null }),
          fc.array(
            fc.record({
              kind: fc.constantFrom('withdrawal', 'payment', 'transfer', 'deposit'),
              amount: fc.integer({ min: 1, max: 300 }),
              hours: fc.integer({ min: 0, max: 30 }),
            }),
            { maxLength: 40 },
          ),
          (overdraftLimit, dailyDebitLimit, steps) => {
            let a: AccountState = account('a', { balance: 200, overdraftLimit, dailyDebitLimit });
            let b: AccountState = account('b');
            let timestamp = T;
            const usedByDay = new Map<number, number>();
            for (const step of steps) {
              timestamp += step.hours * 3_600_000;
              const command: LedgerCommand =
                step.kind === 'transfer'
                  ? transfer('a', 'b', step.amount)
                  : step.kind === 'payment'
                    ? payment('a', step.amount)
                    : { kind: step.kind, accountId: 'a', amount: step.amount };
              const d = decide(command, lookupOf(a, b), { ...context, timestamp });
              if (!d.ok) continue;
              a = d.accounts.find((x) => x.accountId === 'a') ?? a;
              b = d.accounts.find((x) => x.accountId === 'b') ?? b;
              if (step.kind !== 'deposit') {
                const day = utcDay(timestamp);
                usedByDay.set(day, (usedByDay.get(day) ?? 0) + step.amount);
              }
              expect(a.balance).toBeGreaterThanOrEqual(-overdraftLimit);
              if (dailyDebitLimit !== null) {
                for (const used of usedByDay.values()) {
                  expect(used).toBeLessThanOrEqual(dailyDebitLimit);
                }
              }
              expect(a.debitUsed).toBe(usedByDay.get(a.debitDay) ?? 0);
            }
          },
        ),
      );
    });
  });

  describe('status', () => {
    it('a frozen account refuses debits but takes deposits and incoming transfers', () => {
      const lookup = lookupOf(
        account('f', { balance: 100, status: 'FROZEN' }),
        account('b', { balance: 100 }),
      );
      expect(refusal(decide(withdraw('f', 1), lookup, context))).toBe('ACCOUNT_FROZEN');
      expect(refusal(decide(payment('f', 1), lookup, context))).toBe('ACCOUNT_FROZEN');
      expect(refusal(decide(transfer('f', 'b', 1), lookup, context))).toBe('ACCOUNT_FROZEN');
      expect(decide({ kind: 'deposit', accountId: 'f', amount: 1 }, lookup, context).ok).toBe(true);
      expect(decide(transfer('b', 'f', 1), lookup, context).ok).toBe(true);
    });

    it('a closed account refuses every movement, in either direction, as 422', () => {
      const lookup = lookupOf(account('c', { status: 'CLOSED' }), account('b', { balance: 100 }));
      const commands: LedgerCommand[] = [
        { kind: 'deposit', accountId: 'c', amount: 1 },
        withdraw('c', 1),
        payment('c', 1),
        transfer('c', 'b', 1),
        transfer('b', 'c', 1),
      ];
      for (const command of commands) {
        const d = decide(command, lookup, context);
        expect(refusal(d)).toBe('ACCOUNT_CLOSED');
        expect(!d.ok && d.error.status).toBeUndefined();
      }
    });
  });

  describe('PATCH limits', () => {
    const update = (patch: { overdraftLimit?: number; dailyDebitLimit?: number | null }) =>
      ({ kind: 'updateAccount', accountId: 'a', ...patch }) as const;

    it('changes only the fields given; null clears the daily limit', () => {
      const lookup = lookupOf(account('a', { overdraftLimit: 10, dailyDebitLimit: 99 }));
      expect(effects(decide(update({ overdraftLimit: 30 }), lookup, context)).result).toMatchObject(
        { overdraftLimit: 30, dailyDebitLimit: 99 },
      );
      expect(
        effects(decide(update({ dailyDebitLimit: null }), lookup, context)).result,
      ).toMatchObject({ overdraftLimit: 10, dailyDebitLimit: null });
      expect(effects(decide(update({}), lookup, context)).lines).toEqual([]);
    });

    it('refuses an overdraft limit below what is already used (LIMIT_BELOW_USAGE), holds included', () => {
      const lookup = lookupOf(account('a', { balance: -40, overdraftLimit: 100, heldAmount: 10 }));
      expect(effects(decide(update({ overdraftLimit: 50 }), lookup, context)).result).toMatchObject(
        { overdraftLimit: 50 },
      );
      const below = decide(update({ overdraftLimit: 49 }), lookup, context);
      expect(refusal(below)).toBe('LIMIT_BELOW_USAGE');
      expect(detail(below)).toContain('uses 50 below zero');
    });

    it('accepts a daily limit below the usage of today', () => {
      const lookup = lookupOf(
        account('a', { balance: 100, debitDay: utcDay(T), debitUsed: 80, dailyDebitLimit: 100 }),
      );
      expect(
        effects(decide(update({ dailyDebitLimit: 10 }), lookup, context)).result,
      ).toMatchObject({ dailyDebitLimit: 10 });
    });

    it('refuses a closed account with 409', () => {
      const d = decide(
        update({ overdraftLimit: 1 }),
        lookupOf(account('a', { status: 'CLOSED' })),
        context,
      );
      expect(refusal(d)).toBe('ACCOUNT_CLOSED');
      expect(!d.ok && d.error.status).toBe(409);
    });
  });

  describe('freeze, unfreeze, close', () => {
    const change = (action: 'freeze' | 'unfreeze' | 'close') =>
      ({ kind: 'changeStatus', accountId: 'a', action }) as const;

    it('freeze and unfreeze, each a no-op when repeated', () => {
      for (const [from, action, to] of [
        ['ACTIVE', 'freeze', 'FROZEN'],
        ['FROZEN', 'freeze', 'FROZEN'],
        ['FROZEN', 'unfreeze', 'ACTIVE'],
        ['ACTIVE', 'unfreeze', 'ACTIVE'],
      ] as const) {
        const d = decide(change(action), lookupOf(account('a', { status: from })), context);
        expect(effects(d).result.status).toBe(to);
      }
    });

    it('closes only an empty account, naming every reason it is not', () => {
      const full = decide(
        change('close'),
        lookupOf(
          account('a', { balance: 5, heldAmount: 3, nextCreditDueAt: T + 1, pendingCredits: 2 }),
        ),
        context,
      );
      expect(refusal(full)).toBe('ACCOUNT_NOT_EMPTY');
      expect(detail(full)).toBe(
        'Account a cannot be closed: its balance is 5, not 0; 3 is held by authorized holds; a cashback of 2 is still pending.',
      );
      for (const overrides of [
        { balance: -1, overdraftLimit: 1 },
        { heldAmount: 1, overdraftLimit: 1 },
        { nextCreditDueAt: T + 1, pendingCredits: 0 },
      ]) {
        const d = decide(change('close'), lookupOf(account('a', overrides)), context);
        expect(refusal(d)).toBe('ACCOUNT_NOT_EMPTY');
      }
      const d = decide(change('close'), lookupOf(account('a', { status: 'FROZEN' })), context);
      expect(effects(d).result.status).toBe('CLOSED');
    });

    it('a closed account stays closed: every change is 409 ACCOUNT_CLOSED', () => {
      for (const action of ['freeze', 'unfreeze', 'close'] as const) {
        const d = decide(change(action), lookupOf(account('a', { status: 'CLOSED' })), context);
        expect(refusal(d)).toBe('ACCOUNT_CLOSED');
        expect(!d.ok && d.error.status).toBe(409);
      }
    });

    it('opening an account sets its limits, ACTIVE and nothing held', () => {
      const d = decide(
        {
          kind: 'openAccount',
          accountId: 'n',
          currency: 'USD',
          initialDeposit: 0,
          overdraftLimit: 7,
          dailyDebitLimit: 9,
        },
        lookupOf(),
        context,
      );
      expect(effects(d).result).toMatchObject({
        status: 'ACTIVE',
        overdraftLimit: 7,
        dailyDebitLimit: 9,
        heldAmount: 0,
        debitUsed: 0,
      });
    });
  });
});
