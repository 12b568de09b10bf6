import fc from 'fast-check';
import { MAX_BALANCE } from '../../common/money';
import type { LedgerCommand } from './commands';
import {
  accountsOf,
  commandTimestamp,
  decide,
  Decision,
  post,
  settleCredits,
  utcDay,
} from './rules';
import { account, context, effects, lookupOf, payment, refusal, T } from './rules.fixtures';

describe('ledger rules (pure)', () => {
  describe('deposit and withdrawal', () => {
    it('a deposit credits the account and books one DEPOSIT line', () => {
      const d = decide(
        { kind: 'deposit', accountId: 'a', amount: 250 },
        lookupOf(account('a', { balance: 100 })),
        context,
      );
      const e = effects(d);
      expect(e.result).toEqual({ transactionId: 'm-1', timestamp: T, balance: 350 });
      expect(e.lines).toEqual([
        {
          movementId: 'm-1',
          accountId: 'a',
          type: 'DEPOSIT',
          amount: 250,
          balanceAfter: 350,
          timestamp: T,
          counterpartyAccountId: null,
          paymentId: null,
        },
      ]);
      expect(d.ok && d.accounts).toEqual([account('a', { balance: 350, lastEntryAt: T })]);
    });

    it('a withdrawal may empty the account exactly, never below', () => {
      const lookup = lookupOf(account('a', { balance: 100 }));
      expect(
        effects(decide({ kind: 'withdrawal', accountId: 'a', amount: 100 }, lookup, context)).result
          .balance,
      ).toBe(0);
      const refused = decide({ kind: 'withdrawal', accountId: 'a', amount: 101 }, lookup, context);
      expect(refusal(refused)).toBe('INSUFFICIENT_FUNDS');
      expect(!refused.ok && refused.error.detail).toBe('Account a has 100, needs 101.');
    });

    it('refuses a credit above 2^53−1, counting the credits already promised', () => {
      const lookup = lookupOf(account('a', { balance: MAX_BALANCE - 10, pendingCredits: 5 }));
      expect(
        effects(decide({ kind: 'deposit', accountId: 'a', amount: 5 }, lookup, context)).result
          .balance,
      ).toBe(MAX_BALANCE - 5);
      expect(refusal(decide({ kind: 'deposit', accountId: 'a', amount: 6 }, lookup, context))).toBe(
        'BALANCE_LIMIT_EXCEEDED',
      );
    });

    it('answers ACCOUNT_NOT_FOUND for an unknown account', () => {
      expect(
        refusal(decide({ kind: 'deposit', accountId: 'x', amount: 1 }, lookupOf(), context)),
      ).toBe('ACCOUNT_NOT_FOUND');
    });
  });

  describe('transfer', () => {
    const lookup = lookupOf(
      account('a', { balance: 100 }),
      account('b', { balance: 5 }),
      account('e', { currency: 'EUR' }),
    );

    it('books TRANSFER_OUT then TRANSFER_IN under one movement, counterparties set', () => {
      const e = effects(
        decide(
          { kind: 'transfer', sourceAccountId: 'a', targetAccountId: 'b', amount: 40 },
          lookup,
          context,
        ),
      );
      expect(e.result).toEqual({
        transactionId: 'm-1',
        timestamp: T,
        sourceBalance: 60,
        targetBalance: 45,
      });
      expect(
        e.lines.map((l) => [
          l.accountId,
          l.type,
          l.amount,
          l.balanceAfter,
          l.counterpartyAccountId,
        ]),
      ).toEqual([
        ['a', 'TRANSFER_OUT', -40, 60, 'b'],
        ['b', 'TRANSFER_IN', 40, 45, 'a'],
      ]);
    });

    it.each([
      ['SAME_ACCOUNT', 'a', 'a', 1],
      ['ACCOUNT_NOT_FOUND', 'x', 'b', 1],
      ['ACCOUNT_NOT_FOUND', 'a', 'x', 1],
      ['CURRENCY_MISMATCH', 'a', 'e', 1],
      ['INSUFFICIENT_FUNDS', 'a', 'b', 101],
    ])('refuses with %s (%s → %s, %i)', (code, source, target, amount) => {
      expect(
        refusal(
          decide(
            { kind: 'transfer', sourceAccountId: source, targetAccountId: target, amount },
            lookup,
            context,
          ),
        ),
      ).toBe(code);
    });

    it('reports the missing source before the missing target', () => {
      const d = decide(
        { kind: 'transfer', sourceAccountId: 'x', targetAccountId: 'y', amount: 1 },
        lookupOf(),
        context,
      );
      expect(!d.ok && d.error.detail).toBe('Account x does not exist.');
    });
  });

  describe('payment', () => {
    it('debits, reserves the credit and schedules it at timestamp + delay, under its payment id', () => {
      const d = decide(
        payment('a', 100, 2),
        lookupOf(account('a', { balance: 500, nextCreditDueAt: T + 5000, pendingCredits: 7 })),
        context,
      );
      expect(d.ok && d.needsPaymentId).toBe(true);
      expect(d.ok && d.accounts).toEqual([
        account('a', {
          balance: 400,
          lastEntryAt: T,
          pendingCredits: 9,
          nextCreditDueAt: T + 1000,
          debitDay: utcDay(T),
          debitUsed: 100,
        }),
      ]);
      const e = effects(d, 'payment7');
      expect(e.lines.map((l) => [l.type, l.amount, l.balanceAfter, l.paymentId])).toEqual([
        ['PAYMENT', -100, 400, 'payment7'],
      ]);
      expect(e.credits).toEqual([
        {
          reference: 'payment7',
          accountId: 'a',
          amount: 2,
          dueAt: T + 1000,
          entryType: 'CASHBACK',
        },
      ]);
      expect(e.result).toMatchObject({
        paymentId: 'payment7',
        balance: 400,
        creditDueAt: T + 1000,
        creditAmount: 2,
      });
      expect(e.records[0].values).toMatchObject({
        paymentId: 'payment7',
        transactionId: 'm-1',
        amount: 100,
      });
    });

    it('keeps an earlier next due time', () => {
      const d = decide(
        payment('a', 1),
        lookupOf(account('a', { balance: 5, nextCreditDueAt: T + 10 })),
        context,
      );
      expect(d.ok && d.accounts[0].nextCreditDueAt).toBe(T + 10);
    });

    it('refuses an overdraft without asking for a payment id', () => {
      expect(
        refusal(decide(payment('a', 6), lookupOf(account('a', { balance: 5 })), context)),
      ).toBe('INSUFFICIENT_FUNDS');
    });
  });

  describe('opening an account', () => {
    it('opens with a DEPOSIT line for a positive initial deposit, stamped at its creation', () => {
      const d = decide(
        { kind: 'openAccount', accountId: 'n', currency: 'EUR', initialDeposit: 300 },
        lookupOf(),
        context,
      );
      expect(d.ok && d.opened).toEqual(
        account('n', { currency: 'EUR', createdAt: T, lastEntryAt: T }),
      );
      const e = effects(d);
      expect(e.result).toEqual(
        account('n', { currency: 'EUR', createdAt: T, lastEntryAt: T, balance: 300 }),
      );
      expect(e.lines.map((l) => [l.type, l.amount, l.balanceAfter, l.timestamp])).toEqual([
        ['DEPOSIT', 300, 300, T],
      ]);
    });

    it('books nothing for a zero initial deposit', () => {
      expect(
        effects(
          decide(
            { kind: 'openAccount', accountId: 'n', currency: 'USD', initialDeposit: 0 },
            lookupOf(),
            context,
          ),
        ).lines,
      ).toEqual([]);
    });

    it('refuses an id that exists (also one opened earlier in the batch)', () => {
      expect(
        refusal(
          decide(
            { kind: 'openAccount', accountId: 'a', currency: 'USD', initialDeposit: 0 },
            lookupOf(account('a')),
            context,
          ),
        ),
      ).toBe('ACCOUNT_EXISTS');
    });
  });

  it('a settle command decides nothing of its own', () => {
    const e = effects(
      decide({ kind: 'settle', accountIds: ['a'] }, lookupOf(account('a')), context),
    );
    expect(e).toEqual({ lines: [], credits: [], records: [], result: {} });
  });

  describe('timestamps and locks', () => {
    it('locks every account a command names', () => {
      const commands: [LedgerCommand, string[]][] = [
        [{ kind: 'transfer', sourceAccountId: 's', targetAccountId: 't', amount: 1 }, ['s', 't']],
        [{ kind: 'deposit', accountId: 'd', amount: 1 }, ['d']],
        [{ kind: 'settle', accountIds: ['x', 'y'] }, ['x', 'y']],
        [{ kind: 'openAccount', accountId: 'o', currency: 'USD', initialDeposit: 0 }, ['o']],
      ];
      for (const [command, ids] of commands) expect(accountsOf(command)).toEqual(ids);
    });

    it('never stamps a movement before the newest entry of its accounts', () => {
      const lookup = lookupOf(
        account('a', { lastEntryAt: T + 50 }),
        account('b', { lastEntryAt: T - 5 }),
      );
      const transfer: LedgerCommand = {
        kind: 'transfer',
        sourceAccountId: 'b',
        targetAccountId: 'a',
        amount: 1,
      };
      expect(commandTimestamp(transfer, T, lookup)).toBe(T + 50);
      expect(commandTimestamp({ kind: 'deposit', accountId: 'b', amount: 1 }, T, lookup)).toBe(T);
    });
  });

  describe('settling scheduled credits', () => {
    const credit = (reference: string, amount: number, dueAt: number) => ({
      reference,
      accountId: 'a',
      amount,
      dueAt,
      entryType: 'CASHBACK' as const,
    });

    it('books each due credit at its due time, oldest first, and releases its reservation', () => {
      const result = settleCredits(
        account('a', {
          balance: 10,
          pendingCredits: 9,
          nextCreditDueAt: T - 20,
          lastEntryAt: T - 30,
        }),
        [
          credit('payment1', 3, T - 20),
          credit('payment2', 0, T - 10),
          credit('payment3', 4, T - 10),
        ],
        T + 99,
        ['m1', null, 'm3'],
      );
      expect(
        result.lines.map((l) => [
          l.movementId,
          l.type,
          l.amount,
          l.balanceAfter,
          l.timestamp,
          l.paymentId,
        ]),
      ).toEqual([
        ['m1', 'CASHBACK', 3, 13, T - 20, 'payment1'],
        ['m3', 'CASHBACK', 4, 17, T - 10, 'payment3'],
      ]);
      expect(result.account).toEqual(
        account('a', {
          balance: 17,
          pendingCredits: 2,
          nextCreditDueAt: T + 99,
          lastEntryAt: T - 10,
        }),
      );
    });
  });

  describe('properties', () => {
    it('any sequence of movements keeps every balance ≥ 0, chains balanceAfter, and conserves money', () => {
      const ids = ['a', 'b', 'c'];
      const command = fc.oneof(
        fc.record({
          kind: fc.constant('deposit' as const),
          accountId: fc.constantFrom(...ids),
          amount: fc.integer({ min: 1, max: 1000 }),
        }),
        fc.record({
          kind: fc.constant('withdrawal' as const),
          accountId: fc.constantFrom(...ids),
          amount: fc.integer({ min: 1, max: 1000 }),
        }),
        fc.record({
          kind: fc.constant('transfer' as const),
          sourceAccountId: fc.constantFrom(...ids),
          targetAccountId: fc.constantFrom(...ids),
          amount: fc.integer({ min: 1, max: 1000 }),
        }),
      );
      fc.assert(
        fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
          const state = new Map(ids.map((id) => [id, account(id, { balance: 500 })]));
          let external = 1500;
          commands.forEach((c, i) => {
            const d = decide(c, (id) => state.get(id), { timestamp: T + i, movementId: `m${i}` });
            if (!d.ok) return;
            const { lines } = d.finish(undefined);
            for (const line of lines) {
              const before = state.get(line.accountId)!.balance;
              expect(line.balanceAfter).toBe(before + line.amount);
              state.set(line.accountId, {
                ...state.get(line.accountId)!,
                balance: line.balanceAfter,
              });
              if (line.type === 'DEPOSIT' || line.type === 'WITHDRAWAL') external += line.amount;
            }
            for (const a of d.accounts) expect(a.balance).toBe(state.get(a.accountId)!.balance);
          });
          const balances = [...state.values()].map((a) => a.balance);
          for (const b of balances) expect(b).toBeGreaterThanOrEqual(0);
          expect(balances.reduce((x, y) => x + y, 0)).toBe(external);
        }),
      );
    });

    it('post() refuses the whole movement when any line fails, and returns nothing to write', () => {
      const lookup = lookupOf(account('a', { balance: 5 }), account('b', { balance: MAX_BALANCE }));
      const refused = post(
        lookup,
        [
          { accountId: 'a', type: 'TRANSFER_OUT', amount: -5 },
          { accountId: 'b', type: 'TRANSFER_IN', amount: 5 },
        ],
        context,
      );
      expect('lines' in refused).toBe(false);
    });
  });

  // Each of these pins a decision that Stryker showed no other test of this file would notice.
  describe('details and edges', () => {
    function detail(decision: Decision<unknown>): string {
      if (decision.ok) throw new Error('expected a refusal');
      return decision.error.detail;
    }

    it('says why a credit would break the limit, naming the promised cashback only when there is some', () => {
      const deposit = (amount: number) => ({ kind: 'deposit' as const, accountId: 'a', amount });
      expect(
        detail(decide(deposit(11), lookupOf(account('a', { balance: MAX_BALANCE - 10 })), context)),
      ).toBe(`Account a would hold ${MAX_BALANCE + 1}, above the limit of ${MAX_BALANCE}.`);
      expect(
        detail(
          decide(
            deposit(6),
            lookupOf(account('a', { balance: MAX_BALANCE - 10, pendingCredits: 5 })),
            context,
          ),
        ),
      ).toBe(
        `Account a would hold ${MAX_BALANCE - 4} (5 more is already promised as cashback), above the limit of ${MAX_BALANCE}.`,
      );
    });

    it('never refuses a debit for the limit, only for funds', () => {
      // An account over the limit (balance plus promised credits) may still pay out.
      const lookup = lookupOf(account('a', { balance: MAX_BALANCE, pendingCredits: 10 }));
      expect(
        effects(decide({ kind: 'withdrawal', accountId: 'a', amount: 1 }, lookup, context)).result
          .balance,
      ).toBe(MAX_BALANCE - 1);
    });

    it('names the account in ACCOUNT_EXISTS, SAME_ACCOUNT and CURRENCY_MISMATCH', () => {
      const lookup = lookupOf(account('a'), account('e', { currency: 'EUR' }));
      expect(
        detail(
          decide(
            { kind: 'openAccount', accountId: 'a', currency: 'USD', initialDeposit: 0 },
            lookup,
            context,
          ),
        ),
      ).toBe('Account a already exists.');
      const transfer = (sourceAccountId: string, targetAccountId: string): LedgerCommand => ({
        kind: 'transfer',
        sourceAccountId,
        targetAccountId,
        amount: 1,
      });
      expect(detail(decide(transfer('a', 'a'), lookup, context))).toBe(
        'Source and target account are both a.',
      );
      expect(detail(decide(transfer('a', 'e'), lookup, context))).toBe(
        'Account a holds USD but e holds EUR.',
      );
    });

    it('asks for a payment id only for a payment', () => {
      const lookup = lookupOf(account('a', { balance: 10 }));
      const deposit = decide({ kind: 'deposit', accountId: 'a', amount: 1 }, lookup, context);
      expect(deposit.ok && deposit.needsPaymentId).toBe(false);
      const paid = decide(payment('a', 5), lookup, context);
      expect(paid.ok && paid.needsPaymentId).toBe(true);
      expect(() => effects(paid)).toThrow('a payment is finished with its payment id');
    });

    it('returns the opened account, with nothing booked, for a zero initial deposit', () => {
      const d = decide(
        { kind: 'openAccount', accountId: 'n', currency: 'USD', initialDeposit: 0 },
        lookupOf(),
        context,
      );
      const opened = account('n', { createdAt: T, lastEntryAt: T });
      expect(d.ok && d.accounts).toEqual([opened]);
      expect(effects(d).result).toEqual(opened);
    });

    it('books no entry for a credit of 0, even when given a movement id', () => {
      const result = settleCredits(
        account('a', { balance: 10, pendingCredits: 0 }),
        [{ reference: 'p', accountId: 'a', amount: 0, dueAt: T, entryType: 'CASHBACK' }],
        null,
        ['m1'],
      );
      expect(result.lines).toEqual([]);
      expect(result.account.balance).toBe(10);
    });
  });
});
