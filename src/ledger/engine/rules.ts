import { AccountNotFoundException, DomainException } from '../../common/errors/domain.exception';
import { MAX_BALANCE } from '../../common/money';
import type { EntryType } from '../ledger-entry.entity';
import type {
  AccountState,
  CommandResult,
  EntryLine,
  EventDraft,
  LedgerCommand,
  LedgerRecord,
  NewCredit,
  PendingCredit,
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
  /** Events the command reports besides `transaction.posted` (written before those). */
  readonly events?: readonly EventDraft[];
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
}

export type Decision<R> = Refused | Accepted<R>;

/** The accounts a command locks (missing ones included: opening checks for existence). */
export function accountsOf(command: LedgerCommand): readonly string[] {
  switch (command.kind) {
    case 'transfer':
      return [command.sourceAccountId, command.targetAccountId];
    case 'settle':
      return command.accountIds;
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
  const effects: Effects<CommandResult<typeof command>> = {
    lines: posted.lines,
    credits: [],
    records: [],
    result: account,
    events: [
      {
        type: 'account.created',
        accountIds: [accountId],
        occurredAt: context.timestamp,
        data: command.resource(account),
      },
    ],
  };
  return {
    ok: true,
    accounts: posted.accounts,
    opened,
    needsPaymentId: false,
    finish: () => effects,
  };
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
        events: [
          {
            type: 'payment.created',
            accountIds: [accountId],
            occurredAt: context.timestamp,
            data: command.resource(facts),
          },
        ],
      };
    },
  };
}

/** Decides one command against the batch's state. */
export function decide<C extends LedgerCommand>(
  command: C,
  lookup: AccountLookup,
  context: RuleContext,
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
