import { AccountNotFoundException, DomainException } from '../../common/errors/domain.exception';
import { MAX_BALANCE } from '../../common/money';
import type { EntryType } from '../ledger-entry.entity';
import type {
  AccountState,
  CommandResult,
  CreditChange,
  EntryLine,
  LedgerCommand,
  LedgerRecord,
  LedgerRecordUpdate,
  NewCredit,
  PendingCredit,
  RefundableState,
  ResultOf,
} from './commands';

/**
 * The movement rules, as pure functions of the locked state of a command's accounts. They
 * hold every business decision of the write path; the engine that batches, locks and writes
 * holds none. Nothing here touches a database, a clock or a random source: the engine passes
 * in the timestamp and the ids.
 */

/** What the engine gives a rule besides the accounts. */
export interface RuleContext {
  /** The movement's timestamp: never before the newest entry of its accounts. */
  readonly timestamp: number;
  /** The id the movement's entries share (the contract's `transactionId`). */
  readonly movementId: string;
}

/** The accounts a command reads, looked up in the batch's evolving state. */
export type AccountLookup = (accountId: string) => AccountState | undefined;

/**
 * The state besides accounts that refunds and reversals read, loaded by the engine after the
 * account locks (which serialize every refund of a payment and reversal of a movement) and
 * evolved through the batch.
 */
export interface RelatedLookup {
  refundable(paymentId: string): RefundableState | undefined;
  /** How much of the movement is already reversed (0 when nothing is). */
  reversed(transactionId: string): number;
}

const NO_RELATED: RelatedLookup = { refundable: () => undefined, reversed: () => 0 };

export interface Refused {
  readonly ok: false;
  readonly error: DomainException;
}

/** What an accepted command writes, once the ids it asked for are drawn. */
export interface Effects<R> {
  readonly lines: readonly EntryLine[];
  readonly credits: readonly NewCredit[];
  readonly records: readonly LedgerRecord[];
  readonly result: R;
  /** Row updates the command makes in tables the ledger does not own. */
  readonly updates?: readonly LedgerRecordUpdate[];
  /** Changes of pending scheduled credits (a refund shrinks or cancels a cashback). */
  readonly creditChanges?: readonly CreditChange[];
  /** A result that shows the entries' ids (drawn at insert): built from them, in line order. */
  readonly resultWithEntryIds?: (entryIds: readonly string[]) => R;
}

export interface Accepted<R> {
  readonly ok: true;
  /** The touched accounts as the command leaves them (later commands of the batch see these). */
  readonly accounts: readonly AccountState[];
  /** An account this command opens (inserted before any entry is written). */
  readonly opened?: AccountState;
  /** The command needs a payment id (drawn only for accepted payments). */
  readonly needsPaymentId: boolean;
  readonly finish: (paymentId: string | undefined) => Effects<R>;
  /** Refund state as the command leaves it (later commands of the batch see it). */
  readonly refundables?: readonly RefundableState[];
  /** Reversed amounts as the command leaves them. */
  readonly reversed?: readonly { readonly transactionId: string; readonly reversed: number }[];
}

export type Decision<R> = Refused | Accepted<R>;

/** The accounts a command locks (missing ones included: opening checks for existence). */
export function accountsOf(command: LedgerCommand): readonly string[] {
  switch (command.kind) {
    case 'transfer':
      return [command.sourceAccountId, command.targetAccountId];
    case 'settle':
      return command.accountIds;
    case 'refund':
      return command.payment ? [command.payment.accountId] : [];
    case 'reversal':
      return [...new Set(command.original.map((line) => line.accountId))];
    default:
      return [command.accountId];
  }
}

/** The timestamp of a command: the batch's clock, or later if one of its accounts is ahead. */
export function commandTimestamp(
  command: LedgerCommand,
  now: number,
  lookup: AccountLookup,
): number {
  let timestamp = now;
  for (const id of accountsOf(command)) {
    const account = lookup(id);
    if (account) timestamp = Math.max(timestamp, account.lastEntryAt);
  }
  return timestamp;
}

function refuse(error: DomainException): Refused {
  return { ok: false, error };
}

interface LineSpec {
  accountId: string;
  type: EntryType;
  /** Signed. */
  amount: number;
  counterpartyAccountId?: string | null;
}

interface Posted {
  accounts: AccountState[];
  /** Entry lines without a payment id; `withPaymentId` adds it where the caller needs one. */
  lines: EntryLine[];
}

/**
 * The balance rules every movement obeys, applied line by line: a debit may not take the
 * balance below 0 (INSUFFICIENT_FUNDS); a credit may not take the balance plus the credits
 * still owed to the account above 2^53−1 (BALANCE_LIMIT_EXCEEDED), so a scheduled credit can
 * always be booked.
 */
export function post(
  lookup: AccountLookup,
  specs: readonly LineSpec[],
  context: RuleContext,
): Refused | Posted {
  const after = new Map<string, AccountState>();
  const lines: EntryLine[] = [];
  for (const spec of specs) {
    const account = after.get(spec.accountId) ?? lookup(spec.accountId);
    if (!account) return refuse(new AccountNotFoundException(spec.accountId));
    const balance = account.balance + spec.amount;
    if (balance < 0) {
      return refuse(
        new DomainException(
          'INSUFFICIENT_FUNDS',
          `Account ${account.accountId} has ${account.balance}, needs ${-spec.amount}.`,
        ),
      );
    }
    if (spec.amount > 0 && balance + account.pendingCredits > MAX_BALANCE) {
      const pending = account.pendingCredits
        ? ` (${account.pendingCredits} more is already promised as cashback)`
        : '';
      return refuse(
        new DomainException(
          'BALANCE_LIMIT_EXCEEDED',
          `Account ${account.accountId} would hold ${balance}${pending}, above the limit of ${MAX_BALANCE}.`,
        ),
      );
    }
    after.set(account.accountId, {
      ...account,
      balance,
      lastEntryAt: Math.max(account.lastEntryAt, context.timestamp),
    });
    lines.push({
      movementId: context.movementId,
      accountId: account.accountId,
      type: spec.type,
      amount: spec.amount,
      balanceAfter: balance,
      timestamp: context.timestamp,
      counterpartyAccountId: spec.counterpartyAccountId ?? null,
      paymentId: null,
    });
  }
  return { accounts: [...after.values()], lines };
}

function accepted<R>(
  posted: Posted,
  result: (balanceOf: (accountId: string) => number) => R,
): Accepted<R> {
  const balanceOf = (id: string) => posted.accounts.find((a) => a.accountId === id)!.balance;
  const effects: Effects<R> = {
    lines: posted.lines,
    credits: [],
    records: [],
    result: result(balanceOf),
  };
  return { ok: true, accounts: posted.accounts, needsPaymentId: false, finish: () => effects };
}

function requireAccounts(lookup: AccountLookup, ids: readonly string[]): Refused | undefined {
  for (const id of ids) {
    if (!lookup(id)) return refuse(new AccountNotFoundException(id));
  }
  return undefined;
}

function decideOpenAccount(
  command: Extract<LedgerCommand, { kind: 'openAccount' }>,
  lookup: AccountLookup,
  context: RuleContext,
): Decision<CommandResult<typeof command>> {
  const { accountId, currency, initialDeposit } = command;
  if (lookup(accountId)) {
    return refuse(new DomainException('ACCOUNT_EXISTS', `Account ${accountId} already exists.`));
  }
  const opened: AccountState = {
    accountId,
    currency,
    createdAt: context.timestamp,
    balance: 0,
    lastEntryAt: context.timestamp,
    nextCreditDueAt: null,
    pendingCredits: 0,
  };
  const withOpened: AccountLookup = (id) => (id === accountId ? opened : lookup(id));
  const posted: Refused | Posted =
    initialDeposit > 0
      ? post(withOpened, [{ accountId, type: 'DEPOSIT', amount: initialDeposit }], context)
      : { accounts: [opened], lines: [] };
  if (!('lines' in posted)) return posted;
  const account = posted.accounts[0];
  return { ...accepted(posted, () => account), opened };
}

function decideSingle(
  command: Extract<LedgerCommand, { kind: 'deposit' | 'withdrawal' }>,
  lookup: AccountLookup,
  context: RuleContext,
): Decision<CommandResult<typeof command>> {
  const missing = requireAccounts(lookup, [command.accountId]);
  if (missing) return missing;
  const deposit = command.kind === 'deposit';
  const posted = post(
    lookup,
    [
      {
        accountId: command.accountId,
        type: deposit ? 'DEPOSIT' : 'WITHDRAWAL',
        amount: deposit ? command.amount : -command.amount,
      },
    ],
    context,
  );
  if (!('lines' in posted)) return posted;
  return accepted(posted, (balanceOf) => ({
    transactionId: context.movementId,
    timestamp: context.timestamp,
    balance: balanceOf(command.accountId),
  }));
}

function decideTransfer(
  command: Extract<LedgerCommand, { kind: 'transfer' }>,
  lookup: AccountLookup,
  context: RuleContext,
): Decision<CommandResult<typeof command>> {
  const { sourceAccountId, targetAccountId, amount } = command;
  if (sourceAccountId === targetAccountId) {
    return refuse(
      new DomainException('SAME_ACCOUNT', `Source and target account are both ${sourceAccountId}.`),
    );
  }
  const missing = requireAccounts(lookup, [sourceAccountId, targetAccountId]);
  if (missing) return missing;
  const source = lookup(sourceAccountId)!;
  const target = lookup(targetAccountId)!;
  if (source.currency !== target.currency) {
    return refuse(
      new DomainException(
        'CURRENCY_MISMATCH',
        `Account ${sourceAccountId} holds ${source.currency} but ${targetAccountId} holds ${target.currency}.`,
      ),
    );
  }
  const posted = post(
    lookup,
    [
      {
        accountId: sourceAccountId,
        type: 'TRANSFER_OUT',
        amount: -amount,
        counterpartyAccountId: targetAccountId,
      },
      {
        accountId: targetAccountId,
        type: 'TRANSFER_IN',
        amount,
        counterpartyAccountId: sourceAccountId,
      },
    ],
    context,
  );
  if (!('lines' in posted)) return posted;
  return accepted(posted, (balanceOf) => ({
    transactionId: context.movementId,
    timestamp: context.timestamp,
    sourceBalance: balanceOf(sourceAccountId),
    targetBalance: balanceOf(targetAccountId),
  }));
}

/**
 * A payment debits its amount and reserves its credit under the balance limit
 * (`pendingCredits`); the credit always fits, as it is at most the amount just debited.
 */
function decidePayment(
  command: Extract<LedgerCommand, { kind: 'payment' }>,
  lookup: AccountLookup,
  context: RuleContext,
): Decision<CommandResult<typeof command>> {
  const { accountId, amount, credit } = command;
  const missing = requireAccounts(lookup, [accountId]);
  if (missing) return missing;
  const posted = post(lookup, [{ accountId, type: 'PAYMENT', amount: -amount }], context);
  if (!('lines' in posted)) return posted;
  const dueAt = context.timestamp + credit.delayMs;
  const debited = posted.accounts[0];
  const account: AccountState = {
    ...debited,
    pendingCredits: debited.pendingCredits + credit.amount,
    nextCreditDueAt:
      debited.nextCreditDueAt === null ? dueAt : Math.min(debited.nextCreditDueAt, dueAt),
  };
  return {
    ok: true,
    accounts: [account],
    needsPaymentId: true,
    finish: (paymentId) => {
      if (paymentId === undefined) throw new Error('a payment is finished with its payment id');
      const facts = {
        paymentId,
        transactionId: context.movementId,
        accountId,
        amount,
        creditAmount: credit.amount,
        creditDueAt: dueAt,
        timestamp: context.timestamp,
      };
      return {
        lines: posted.lines.map((line) => ({ ...line, paymentId })),
        credits: [
          {
            reference: paymentId,
            accountId,
            amount: credit.amount,
            dueAt,
            entryType: credit.entryType,
          },
        ],
        records: [command.record(facts)],
        result: { ...facts, balance: account.balance },
      };
    },
  };
}

/** The payment whose refund state a command reads, if any. */
export function refundOf(command: LedgerCommand): string | undefined {
  return command.kind === 'refund' && command.payment ? command.payment.paymentId : undefined;
}

/** The movement whose reversed amount a command reads, if any. */
export function reversalOf(command: LedgerCommand): string | undefined {
  return command.kind === 'reversal' && command.original.length > 0
    ? command.transactionId
    : undefined;
}

/**
 * A payment's refund state once the batch's settlement booked its credit of `amount`: the
 * cashback is now credited, and later refunds reverse part of it.
 */
export function afterCreditSettled(state: RefundableState, amount: number): RefundableState {
  return state.cashbackSettled ? state : { ...state, cashback: amount, cashbackSettled: true };
}

/**
 * A refund credits `amount` back (a REFUND entry) and brings the cashback down to what the
 * unrefunded rest earns, `cashbackFor(paymentAmount − refunded)`, never up. While the cashback
 * is pending, its credit shrinks (to 0 once the payment is fully refunded: it books nothing);
 * once credited, the difference is debited in the same movement as a
 * CASHBACK_REVERSAL, after the REFUND line. The difference is at most the refund (with
 * x − y = refund × rate / 10000 ≤ refund, floor(x) − floor(y) < refund + 1, an integer), so a
 * refund never lowers the balance and can never fail INSUFFICIENT_FUNDS. Both lines go through
 * the balance rules of `post`.
 */
function decideRefund(
  command: Extract<LedgerCommand, { kind: 'refund' }>,
  lookup: AccountLookup,
  context: RuleContext,
  related: RelatedLookup,
): Decision<CommandResult<typeof command>> {
  const { payment, paymentId } = command;
  const state = payment && related.refundable(payment.paymentId);
  if (!payment || !state) {
    return refuse(new DomainException('PAYMENT_NOT_FOUND', `Payment ${paymentId} does not exist.`));
  }
  const remaining = payment.amount - state.refunded;
  if (remaining <= 0) {
    return refuse(
      new DomainException(
        'PAYMENT_FULLY_REFUNDED',
        `Payment ${paymentId} is already fully refunded (${payment.amount}).`,
      ),
    );
  }
  const amount = command.amount ?? remaining;
  if (amount > remaining) {
    return refuse(
      new DomainException(
        'REFUND_EXCEEDS_PAYMENT',
        `Payment ${paymentId} has ${remaining} left to refund, not ${amount}.`,
      ),
    );
  }
  const { accountId } = payment;
  const account = lookup(accountId);
  if (!account) return refuse(new AccountNotFoundException(accountId));
  const refunded = state.refunded + amount;
  const cashback = Math.min(state.cashback, command.cashbackFor(payment.amount - refunded));
  const difference = state.cashback - cashback;
  const settled = state.cashbackSettled;
  // A pending credit shrinks first: the room it kept under the balance limit is free again.
  const before: AccountLookup = settled
    ? lookup
    : (id) =>
        id === accountId
          ? { ...account, pendingCredits: account.pendingCredits - difference }
          : lookup(id);
  const specs: LineSpec[] = [{ accountId, type: 'REFUND', amount }];
  if (settled && difference > 0) {
    specs.push({ accountId, type: 'CASHBACK_REVERSAL', amount: -difference });
  }
  const posted = post(before, specs, context);
  if (!('lines' in posted)) return posted;
  const after = posted.accounts[0];
  const facts = {
    paymentId,
    transactionId: context.movementId,
    accountId,
    amount,
    cashbackAdjustment: settled ? difference : 0,
    refundedAmount: refunded,
    cashbackAmount: cashback,
    cashbackSettled: settled,
    timestamp: context.timestamp,
  };
  const rows = command.records(facts);
  const effects: Effects<CommandResult<typeof command>> = {
    lines: posted.lines.map((line) => ({ ...line, paymentId })),
    credits: [],
    records: rows.inserts,
    updates: rows.updates,
    creditChanges: settled ? [] : [{ reference: paymentId, amount: cashback }],
    result: { ...facts, balance: after.balance },
  };
  return {
    ok: true,
    accounts: posted.accounts,
    needsPaymentId: false,
    finish: () => effects,
    refundables: [{ paymentId, refunded, cashback, cashbackSettled: settled }],
  };
}

const REVERSIBLE: Record<string, readonly string[]> = {
  DEPOSIT: ['DEPOSIT'],
  WITHDRAWAL: ['WITHDRAWAL'],
  TRANSFER: ['TRANSFER_OUT', 'TRANSFER_IN'],
};

/**
 * A reversal books the opposite of each line of a DEPOSIT, WITHDRAWAL or TRANSFER, for
 * `amount` (default: all that is left), as REVERSAL entries carrying the original's id (and
 * its counterparty). Debits first, so a transfer's target is checked for funds before its
 * source is credited. Partial reversals add up to at most the original amount.
 */
function decideReversal(
  command: Extract<LedgerCommand, { kind: 'reversal' }>,
  lookup: AccountLookup,
  context: RuleContext,
  related: RelatedLookup,
): Decision<CommandResult<typeof command>> {
  const { transactionId, original } = command;
  if (original.length === 0) {
    return refuse(
      new DomainException('TRANSACTION_NOT_FOUND', `Transaction ${transactionId} does not exist.`),
    );
  }
  const types = original.map((line) => line.type).join(',');
  const kind = Object.keys(REVERSIBLE).find((k) => REVERSIBLE[k].join(',') === types);
  if (!kind) {
    return refuse(
      new DomainException(
        'NOT_REVERSIBLE',
        `Transaction ${transactionId} (${types}) cannot be reversed: only deposits, withdrawals and transfers can (payments are refunded).`,
      ),
    );
  }
  const total = Math.abs(original[0].amount);
  const reversed = related.reversed(transactionId);
  const remaining = total - reversed;
  const amount = command.amount ?? remaining;
  if (remaining <= 0 || amount > remaining) {
    return refuse(
      new DomainException(
        'REVERSAL_EXCEEDS_REMAINING',
        `Transaction ${transactionId} has ${remaining} of ${total} left to reverse, not ${amount}.`,
      ),
    );
  }
  const specs: LineSpec[] = original
    .map((line) => ({
      accountId: line.accountId,
      type: 'REVERSAL' as const,
      amount: line.amount > 0 ? -amount : amount,
      counterpartyAccountId: line.counterpartyAccountId,
    }))
    .sort((a, b) => a.amount - b.amount);
  const posted = post(lookup, specs, context);
  if (!('lines' in posted)) return posted;
  const lines = posted.lines.map((line) => ({ ...line, reversedTransactionId: transactionId }));
  const result = (entryIds: readonly string[]) => ({
    transactionId: context.movementId,
    reversedTransactionId: transactionId,
    amount,
    timestamp: context.timestamp,
    entries: lines.map((line, i) => ({ ...line, entryId: entryIds[i] })),
  });
  const effects: Effects<CommandResult<typeof command>> = {
    lines,
    credits: [],
    records: [],
    result: result([]),
    resultWithEntryIds: result,
  };
  return {
    ok: true,
    accounts: posted.accounts,
    needsPaymentId: false,
    finish: () => effects,
    reversed: [{ transactionId, reversed: reversed + amount }],
  };
}

/** Decides one command against the batch's state. */
export function decide<C extends LedgerCommand>(
  command: C,
  lookup: AccountLookup,
  context: RuleContext,
  related: RelatedLookup = NO_RELATED,
): Decision<CommandResult<C>> {
  switch (command.kind) {
    case 'openAccount':
      return decideOpenAccount(command, lookup, context) as Decision<CommandResult<C>>;
    case 'deposit':
    case 'withdrawal':
      return decideSingle(command, lookup, context) as Decision<CommandResult<C>>;
    case 'transfer':
      return decideTransfer(command, lookup, context) as Decision<CommandResult<C>>;
    case 'payment':
      return decidePayment(command, lookup, context) as Decision<CommandResult<C>>;
    case 'settle':
      // Nothing of its own: the batch books what is due on every account it locks.
      return accepted<ResultOf['settle']>({ accounts: [], lines: [] }, () => ({})) as Decision<
        CommandResult<C>
      >;
    case 'refund':
      return decideRefund(command, lookup, context, related) as Decision<CommandResult<C>>;
    case 'reversal':
      return decideReversal(command, lookup, context, related) as Decision<CommandResult<C>>;
  }
}

/**
 * Books an account's due credits, oldest first, each at its own due time (so history order is
 * posting order: every earlier entry of the account is older than a pending credit's due time).
 * A credit of 0 books no entry. `next` is the account's earliest credit still pending after.
 */
export function settleCredits(
  account: AccountState,
  due: readonly PendingCredit[],
  next: number | null,
  movementIds: readonly (string | null)[],
): { account: AccountState; lines: EntryLine[] } {
  let balance = account.balance;
  let pending = account.pendingCredits;
  let lastEntryAt = account.lastEntryAt;
  const lines: EntryLine[] = [];
  due.forEach((credit, i) => {
    pending -= credit.amount;
    const movementId = movementIds[i];
    if (credit.amount === 0 || !movementId) return;
    balance += credit.amount;
    lastEntryAt = Math.max(lastEntryAt, credit.dueAt);
    lines.push({
      movementId,
      accountId: account.accountId,
      type: credit.entryType,
      amount: credit.amount,
      balanceAfter: balance,
      timestamp: credit.dueAt,
      counterpartyAccountId: null,
      paymentId: credit.reference,
    });
  });
  return {
    account: { ...account, balance, pendingCredits: pending, lastEntryAt, nextCreditDueAt: next },
    lines,
  };
}
