import { DomainException } from '../../common/errors/domain.exception';
import type { AccountState, PaymentCommand } from './commands';
import type { AccountLookup, Decision, Effects } from './rules';

/** Shared by the rules' unit tests: accounts, look-ups and decision helpers. */

export const T = 1_763_700_000_000;
export const context = { timestamp: T, movementId: 'm-1' };

export function account(accountId: string, overrides: Partial<AccountState> = {}): AccountState {
  return {
    accountId,
    currency: 'USD',
    createdAt: T - 1000,
    balance: 0,
    lastEntryAt: T - 1000,
    nextCreditDueAt: null,
    pendingCredits: 0,
    status: 'ACTIVE',
    overdraftLimit: 0,
    dailyDebitLimit: null,
    heldAmount: 0,
    debitDay: 0,
    debitUsed: 0,
    nextHoldExpiresAt: null,
    ...overrides,
  };
}

export function lookupOf(...accounts: AccountState[]): AccountLookup {
  const byId = new Map(accounts.map((a) => [a.accountId, a]));
  return (id) => byId.get(id);
}

export function refusal(decision: Decision<unknown>): string {
  if (decision.ok) throw new Error('expected a refusal');
  expect(decision.error).toBeInstanceOf(DomainException);
  return decision.error.code;
}

export function effects<R>(decision: Decision<R>, paymentId?: string): Effects<R> {
  if (!decision.ok) throw new Error(`refused: ${decision.error.code} ${decision.error.detail}`);
  return decision.finish(paymentId);
}

export const payment = (accountId: string, amount: number, credit = 2): PaymentCommand => ({
  kind: 'payment',
  accountId,
  amount,
  credit: { amount: credit, delayMs: 1000, entryType: 'CASHBACK' },
  record: (facts) => ({ entity: Object, values: { ...facts } }),
});
