import { AccountNotFoundException, DomainException } from '../../common/errors/domain.exception';
import { MAX_BALANCE } from '../../common/money';
import type { EntryType } from '../ledger-entry.entity';
import { holdResource } from './hold-resource';
import type {
  AccountState,
  CreditToSchedule,
  HoldState,
  PaymentFacts,
  CommandResult,
  CreditChange,
  EntryLine,
  EventDraft,
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

/** The holds a command reads (locked after its accounts), in the batch's evolving state. */
export type HoldLookup = (holdId: string) => HoldState | undefined;

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
  /** Holds the command creates or changes, as they are to be written. */
  readonly holds?: readonly HoldState[];
  readonly result: R;
  /** Events the command reports besides `transaction.posted` (written before those). */
  readonly events?: readonly EventDraft[];
  /** Row updates the command makes in tables the ledger does not own. */
  readonly updates?: readonly LedgerRecordUpdate[];
  /** Changes of pending scheduled credits (a refund shrinks a cashback). */
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
  /** Holds as the command leaves them (later commands of the batch see these). */
  readonly holds?: readonly HoldState[];
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
    case 'captureHold':
    case 'voidHold':
      return command.accountIds;
    case 'refund':
      return command.payment ? [command.payment.accountId] : [];
    case 'reversal':
      return [...new Set(command.original.map((line) => line.accountId))];
    case 'authorizeHold':
      return command.targetAccountId === null
        ? [command.accountId]
        : [command.accountId, command.targetAccountId];
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
  /**
   * A debit of funds a hold already reserved (a capture): never refused for a frozen account
   * or the daily limit, though it still counts toward the day's usage.
   */
  reserved?: boolean;
}

export const DAY_MS = 86_400_000;

/** The UTC day of an epoch-ms time, as days since the epoch. */
export function utcDay(timestamp: number): number {
  return Math.floor(timestamp / DAY_MS);
}

/** The debits that count toward the account's daily limit on `day`. */
export function debitUsedOn(account: AccountState, day: number): number {
  return account.debitDay === day ? account.debitUsed : 0;
}

/** `balance + overdraftLimit − heldAmount`: what a new debit may take. */
export function availableBalance(account: AccountState): number {
  return account.balance + account.overdraftLimit - account.heldAmount;
}

/** Entry types that count toward the daily debit limit (API.md, "dailyDebitLimit"). */
const DAILY_LIMITED: ReadonlySet<EntryType> = new Set(['WITHDRAWAL', 'TRANSFER_OUT', 'PAYMENT']);

export function accountClosed(accountId: string, status?: 409): DomainException {
  return new DomainException(
    'ACCOUNT_CLOSED',
    `Account ${accountId} is closed.`,
    undefined,
    status,
  );
}

function insufficientFunds(account: AccountState, amount: number): DomainException {
  const available = availableBalance(account);
  const parts =
    account.overdraftLimit === 0 && account.heldAmount === 0
      ? ''
      : ` available (balance ${account.balance}, overdraft limit ${account.overdraftLimit}, held ${account.heldAmount})`;
  return new DomainException(
    'INSUFFICIENT_FUNDS',
    `Account ${account.accountId} has ${available}${parts}, needs ${amount}.`,
  );
}

/**
 * The checks a debit of `amount` must pass on its account before it is booked or reserved:
 * status, available balance, daily limit. Returns the account with the debit counted toward
 * the day's usage (the balance itself is the caller's).
 */
export function checkDebit(
  account: AccountState,
  amount: number,
  timestamp: number,
  options: { reserved?: boolean; dailyLimited: boolean },
): Refused | AccountState {
  if (account.status === 'CLOSED') return refuse(accountClosed(account.accountId));
  if (!options.reserved) {
    if (account.status === 'FROZEN') {
      return refuse(
        new DomainException(
          'ACCOUNT_FROZEN',
          `Account ${account.accountId} is frozen: it takes credits but no debits.`,
        ),
      );
    }
    if (amount > availableBalance(account)) return refuse(insufficientFunds(account, amount));
  }
  if (!options.dailyLimited) return account;
  const day = utcDay(timestamp);
  const used = debitUsedOn(account, day);
  const limit = account.dailyDebitLimit;
  if (!options.reserved && limit !== null && used + amount > limit) {
    return refuse(
      new DomainException(
        'DAILY_LIMIT_EXCEEDED',
        `Account ${account.accountId} may debit ${Math.max(0, limit - used)} more today (daily debit limit ${limit}, ${used} used); needs ${amount}.`,
      ),
    );
  }
  return { ...account, debitDay: day, debitUsed: used + amount };
}

function isRefused(value: Refused | AccountState): value is Refused {
  return 'ok' in value;
}

interface Posted {
  accounts: AccountState[];
  /** Entry lines without a payment id; `withPaymentId` adds it where the caller needs one. */
  lines: EntryLine[];
}

/**
 * The balance rules every movement obeys, applied line by line: no line on a closed account
 * (ACCOUNT_CLOSED); a debit must pass `checkDebit` (not frozen, at most the available balance,
 * within the daily limit); a credit may not take the balance plus the credits still owed to the
 * account above 2^53−1 (BALANCE_LIMIT_EXCEEDED), so a scheduled credit can always be booked.
 */
export function post(
  lookup: AccountLookup,
  specs: readonly LineSpec[],
  context: RuleContext,
): Refused | Posted {
  const after = new Map<string, AccountState>();
  const lines: EntryLine[] = [];
  for (const spec of specs) {
    const before = after.get(spec.accountId) ?? lookup(spec.accountId);
    if (!before) return refuse(new AccountNotFoundException(spec.accountId));
    if (before.status === 'CLOSED') return refuse(accountClosed(before.accountId));
    const account =
      spec.amount < 0
        ? checkDebit(before, -spec.amount, context.timestamp, {
            reserved: spec.reserved,
            dailyLimited: DAILY_LIMITED.has(spec.type),
          })
        : before;
    if (isRefused(account)) return account;
    const balance = account.balance + spec.amount;
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

/** What a command writes besides `result`: nothing but what `written` names. */
function effectsOf<R>(result: R, written: Omit<Partial<Effects<R>>, 'result'> = {}): Effects<R> {
  return { lines: [], credits: [], records: [], result, ...written };
}

/**
 * A command that needs no payment id: what it writes is known at once. `state` is what later
 * commands of the batch see besides its accounts.
 */
function acceptedNow<R>(
  accounts: readonly AccountState[],
  effects: Effects<R>,
  state: Pick<Accepted<R>, 'opened' | 'holds' | 'refundables' | 'reversed'> = {},
): Accepted<R> {
  return { ok: true, accounts, ...state, needsPaymentId: false, finish: () => effects };
}

/** An event about one account, e.g. `account.created`. */
function accountEvent(
  type: string,
  accountId: string,
  occurredAt: number,
  data: unknown,
): EventDraft {
  return { type, accountIds: [accountId], occurredAt, data };
}

/** A movement's acceptance: its lines, and a result read from the balances it leaves. */
function accepted<R>(
  posted: Posted,
  result: (balanceOf: (accountId: string) => number) => R,
): Accepted<R> {
  const balanceOf = (id: string) => posted.accounts.find((a) => a.accountId === id)!.balance;
  return acceptedNow(posted.accounts, effectsOf(result(balanceOf), { lines: posted.lines }));
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
  const { accountId, currency, initialDeposit, overdraftLimit, dailyDebitLimit } = command;
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
    status: 'ACTIVE',
    overdraftLimit: overdraftLimit ?? 0,
    dailyDebitLimit: dailyDebitLimit ?? null,
    heldAmount: 0,
    debitDay: 0,
    debitUsed: 0,
    nextHoldExpiresAt: null,
  };
  const withOpened: AccountLookup = (id) => (id === accountId ? opened : lookup(id));
  const posted: Refused | Posted =
    initialDeposit > 0
      ? post(withOpened, [{ accountId, type: 'DEPOSIT', amount: initialDeposit }], context)
      : { accounts: [opened], lines: [] };
  if (!('lines' in posted)) return posted;
  const account = posted.accounts[0];
  const created = accountEvent(
    'account.created',
    accountId,
    context.timestamp,
    command.resource(account),
  );
  return acceptedNow(
    posted.accounts,
    effectsOf(account, { lines: posted.lines, events: [created] }),
    { opened },
  );
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
  const account = withCredit(posted.accounts[0], credit, context.timestamp);
  return {
    ok: true,
    accounts: [account],
    needsPaymentId: true,
    finish: (paymentId) => {
      const effects = paymentEffects(command, posted.lines, paymentId, context);
      return { ...effects, result: { ...effects.facts, balance: account.balance } };
    },
  };
}

/** The account with a payment's credit reserved under the balance limit and scheduled. */
function withCredit(
  account: AccountState,
  credit: CreditToSchedule,
  timestamp: number,
): AccountState {
  const dueAt = timestamp + credit.delayMs;
  return {
    ...account,
    pendingCredits: account.pendingCredits + credit.amount,
    nextCreditDueAt:
      account.nextCreditDueAt === null ? dueAt : Math.min(account.nextCreditDueAt, dueAt),
  };
}

/** A payment's lines, credit and record, once its payment id is drawn. */
function paymentEffects(
  payment: { accountId: string; amount: number; credit: CreditToSchedule } & Pick<
    Extract<LedgerCommand, { kind: 'payment' }>,
    'record' | 'resource'
  >,
  lines: readonly EntryLine[],
  paymentId: string | undefined,
  context: RuleContext,
): Omit<Effects<never>, 'result'> & { facts: PaymentFacts } {
  if (paymentId === undefined) throw new Error('a payment is finished with its payment id');
  const { accountId, amount, credit } = payment;
  const dueAt = context.timestamp + credit.delayMs;
  const facts: PaymentFacts = {
    paymentId,
    transactionId: context.movementId,
    accountId,
    amount,
    creditAmount: credit.amount,
    creditDueAt: dueAt,
    timestamp: context.timestamp,
  };
  return {
    facts,
    lines: lines.map((line) =>
      line.accountId === accountId && line.type === 'PAYMENT' ? { ...line, paymentId } : line,
    ),
    credits: [
      {
        reference: paymentId,
        accountId,
        amount: credit.amount,
        dueAt,
        entryType: credit.entryType,
      },
    ],
    records: [payment.record(facts)],
    events: [
      accountEvent('payment.created', accountId, context.timestamp, payment.resource(facts)),
    ],
  };
}

/**
 * An account's own change (limits, status): no entry, the new state is the result, and an
 * `account.updated` event when something did change (a repeated freeze is a no-op).
 */
function changed(
  before: AccountState,
  after: AccountState,
  resource: (account: AccountState) => unknown,
  context: RuleContext,
): Accepted<AccountState> {
  const same =
    before.status === after.status &&
    before.overdraftLimit === after.overdraftLimit &&
    before.dailyDebitLimit === after.dailyDebitLimit;
  const events = same
    ? []
    : [accountEvent('account.updated', after.accountId, context.timestamp, resource(after))];
  return acceptedNow([after], effectsOf(after, { events }));
}

/** An account's own change (limits, status) needs an existing account, not a closed one (409). */
function decideOwnChange(
  command: Extract<LedgerCommand, { kind: 'updateAccount' | 'changeStatus' }>,
  lookup: AccountLookup,
  context: RuleContext,
): Decision<AccountState> {
  const account = lookup(command.accountId);
  if (!account) return refuse(new AccountNotFoundException(command.accountId));
  if (account.status === 'CLOSED') return refuse(accountClosed(command.accountId, 409));
  return command.kind === 'updateAccount'
    ? decideUpdateAccount(command, account, context)
    : decideChangeStatus(command, account, context);
}

/**
 * New limits. The overdraft limit may not go below what the account already uses of it, held
 * amounts included (LIMIT_BELOW_USAGE: `availableBalance` would be negative). A daily limit
 * below today's usage is accepted: it only stops further debits today.
 */
function decideUpdateAccount(
  command: Extract<LedgerCommand, { kind: 'updateAccount' }>,
  account: AccountState,
  context: RuleContext,
): Decision<AccountState> {
  const next: AccountState = {
    ...account,
    overdraftLimit: command.overdraftLimit ?? account.overdraftLimit,
    dailyDebitLimit:
      command.dailyDebitLimit === undefined ? account.dailyDebitLimit : command.dailyDebitLimit,
  };
  const available = availableBalance(next);
  if (available < 0) {
    return refuse(
      new DomainException(
        'LIMIT_BELOW_USAGE',
        `Account ${account.accountId} uses ${-(account.balance - account.heldAmount)} below zero (balance ${account.balance}, held ${account.heldAmount}): its overdraft limit cannot go below that.`,
      ),
    );
  }
  return changed(account, next, command.resource, context);
}

/**
 * Freeze and unfreeze are idempotent; a closed account stays closed (409 ACCOUNT_CLOSED). Close
 * needs an empty account: balance 0, no AUTHORIZED hold, no cashback still pending.
 */
function decideChangeStatus(
  command: Extract<LedgerCommand, { kind: 'changeStatus' }>,
  account: AccountState,
  context: RuleContext,
): Decision<AccountState> {
  if (command.action !== 'close') {
    const status = command.action === 'freeze' ? 'FROZEN' : 'ACTIVE';
    return changed(account, { ...account, status }, command.resource, context);
  }
  const reasons = [
    account.balance !== 0 && `its balance is ${account.balance}, not 0`,
    account.heldAmount > 0 && `${account.heldAmount} is held by authorized holds`,
    account.nextCreditDueAt !== null && `a cashback of ${account.pendingCredits} is still pending`,
  ].filter((reason): reason is string => reason !== false);
  if (reasons.length > 0) {
    return refuse(
      new DomainException(
        'ACCOUNT_NOT_EMPTY',
        `Account ${account.accountId} cannot be closed: ${reasons.join('; ')}.`,
      ),
    );
  }
  return changed(account, { ...account, status: 'CLOSED' }, command.resource, context);
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
    // Covered by the REFUND line just before it, so, like a capture of reserved funds, never
    // refused for a frozen account, the available balance or the daily limit.
    specs.push({ accountId, type: 'CASHBACK_REVERSAL', amount: -difference, reserved: true });
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
  const effects = effectsOf(
    { ...facts, balance: after.balance },
    {
      lines: posted.lines.map((line) => ({ ...line, paymentId })),
      records: rows.inserts,
      updates: rows.updates,
      creditChanges: settled ? [] : [{ reference: paymentId, amount: cashback }],
      events: [
        accountEvent('payment.refunded', accountId, context.timestamp, command.resource(facts)),
      ],
    },
  );
  return acceptedNow(posted.accounts, effects, {
    refundables: [{ paymentId, refunded, cashback, cashbackSettled: settled }],
  });
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
  return acceptedNow(
    posted.accounts,
    effectsOf(result([]), { lines, resultWithEntryIds: result }),
    { reversed: [{ transactionId, reversed: reversed + amount }] },
  );
}

/** Decides one command against the batch's state. */
export function decide<C extends LedgerCommand>(
  command: C,
  lookup: AccountLookup,
  context: RuleContext,
  holds: HoldLookup = () => undefined,
  related: RelatedLookup = NO_RELATED,
): Decision<CommandResult<C>> {
  switch (command.kind) {
    case 'authorizeHold':
      return decideAuthorizeHold(command, lookup, context) as Decision<CommandResult<C>>;
    case 'captureHold':
      return decideCaptureHold(command, lookup, holds, context) as Decision<CommandResult<C>>;
    case 'voidHold':
      return decideVoidHold(command, lookup, holds, context) as Decision<CommandResult<C>>;
    case 'openAccount':
      return decideOpenAccount(command, lookup, context) as Decision<CommandResult<C>>;
    case 'updateAccount':
    case 'changeStatus':
      return decideOwnChange(command, lookup, context) as Decision<CommandResult<C>>;
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

/** The hold id of the hold a command creates: derived from its movement id (unique). */
export function holdIdOf(movementId: string): string {
  return `hold_${movementId.replace(/-/g, '')}`;
}

/**
 * A new hold reserves its amount: it must pass every check of a debit (status, available
 * balance, daily limit, where it counts from now on) and raises `heldAmount`, which lowers
 * `availableBalance`. It books no entry. A hold to a target checks the target now (exists,
 * not the same account, same currency, not closed), as the capture will move money there.
 */
function decideAuthorizeHold(
  command: Extract<LedgerCommand, { kind: 'authorizeHold' }>,
  lookup: AccountLookup,
  context: RuleContext,
): Decision<HoldState> {
  const { accountId, targetAccountId, amount } = command;
  const account = lookup(accountId);
  if (!account) return refuse(new AccountNotFoundException(accountId));
  if (targetAccountId !== null) {
    if (targetAccountId === accountId) {
      return refuse(
        new DomainException('SAME_ACCOUNT', `The hold's account and target are both ${accountId}.`),
      );
    }
    const target = lookup(targetAccountId);
    if (!target) return refuse(new AccountNotFoundException(targetAccountId));
    if (target.currency !== account.currency) {
      return refuse(
        new DomainException(
          'CURRENCY_MISMATCH',
          `Account ${accountId} holds ${account.currency} but ${targetAccountId} holds ${target.currency}.`,
        ),
      );
    }
    if (target.status === 'CLOSED') return refuse(accountClosed(targetAccountId));
  }
  const checked = checkDebit(account, amount, context.timestamp, { dailyLimited: true });
  if (isRefused(checked)) return checked;
  const expiresAt = context.timestamp + command.expiresInMs;
  const hold: HoldState = {
    holdId: holdIdOf(context.movementId),
    accountId,
    targetAccountId,
    amount,
    status: 'AUTHORIZED',
    expiresAt,
    createdAt: context.timestamp,
    capturedAmount: 0,
    captureMovementId: null,
    capturePaymentId: null,
    captureTimestamp: null,
    resolvedAt: null,
  };
  const next: AccountState = {
    ...checked,
    heldAmount: checked.heldAmount + amount,
    nextHoldExpiresAt:
      checked.nextHoldExpiresAt === null
        ? expiresAt
        : Math.min(checked.nextHoldExpiresAt, expiresAt),
  };
  return holdChanged(next, hold, 'hold.created', context);
}

/**
 * A hold's own change (authorize, void): no entry; the hold as it now is is the result, written
 * and shown to later commands of the batch, and reported as `event`.
 */
function holdChanged(
  account: AccountState,
  hold: HoldState,
  event: string,
  context: RuleContext,
): Accepted<HoldState> {
  const effects = effectsOf(hold, {
    holds: [hold],
    events: [holdEvent(event, hold, context.timestamp)],
  });
  return acceptedNow([account], effects, { holds: [hold] });
}

/**
 * The account with a hold's amount released: out of `heldAmount`, and out of the day's debit
 * usage when the hold was authorized on the day that usage counts (a hold counts toward the
 * daily limit only while it is AUTHORIZED).
 */
export function releaseHold(account: AccountState, hold: HoldState): AccountState {
  return {
    ...account,
    heldAmount: account.heldAmount - hold.amount,
    debitUsed:
      account.debitDay === utcDay(hold.createdAt)
        ? account.debitUsed - hold.amount
        : account.debitUsed,
  };
}

/** The hold a capture or a void acts on: it must exist and still be AUTHORIZED. */
function activeHold(holds: HoldLookup, holdId: string): Refused | HoldState {
  const hold = holds(holdId);
  if (!hold) return refuse(new DomainException('HOLD_NOT_FOUND', `Hold ${holdId} does not exist.`));
  if (hold.status !== 'AUTHORIZED') {
    return refuse(
      new DomainException('HOLD_NOT_ACTIVE', `Hold ${holdId} is ${hold.status}, not AUTHORIZED.`),
    );
  }
  return hold;
}

function isHold(value: Refused | HoldState): value is HoldState {
  return !('ok' in value);
}

/**
 * Captures a hold: releases its whole amount, then books the captured part (≤ the hold) as a
 * payment (no target: a PAYMENT entry, a payment id and its cashback, exactly as POST
 * /payments) or a transfer to its target. The debit uses the funds the hold reserved: it is
 * never refused for funds, the daily limit or a freeze, though it counts toward the day's
 * usage. The target side obeys the usual credit rules (closed, balance limit).
 */
function decideCaptureHold(
  command: Extract<LedgerCommand, { kind: 'captureHold' }>,
  lookup: AccountLookup,
  holds: HoldLookup,
  context: RuleContext,
): Decision<CommandResult<typeof command>> {
  const hold = activeHold(holds, command.holdId);
  if (!isHold(hold)) return hold;
  const { amount } = command;
  if (amount > hold.amount) {
    return refuse(
      new DomainException(
        'CAPTURE_EXCEEDS_HOLD',
        `Hold ${hold.holdId} reserves ${hold.amount}; ${amount} cannot be captured.`,
      ),
    );
  }
  const account = lookup(hold.accountId);
  if (!account) return refuse(new AccountNotFoundException(hold.accountId));
  const released = releaseHold(account, hold);
  const withReleased: AccountLookup = (id) => (id === hold.accountId ? released : lookup(id));
  const target = hold.targetAccountId;
  const specs: LineSpec[] =
    target === null
      ? [{ accountId: hold.accountId, type: 'PAYMENT', amount: -amount, reserved: true }]
      : [
          {
            accountId: hold.accountId,
            type: 'TRANSFER_OUT',
            amount: -amount,
            counterpartyAccountId: target,
            reserved: true,
          },
          { accountId: target, type: 'TRANSFER_IN', amount, counterpartyAccountId: hold.accountId },
        ];
  const posted = post(withReleased, specs, context);
  if (!('lines' in posted)) return posted;
  const payment = target === null ? command.payment : undefined;
  if (target === null && !payment)
    throw new Error('the capture of a payment hold needs its payment');
  const accounts = posted.accounts.map((a) =>
    payment && a.accountId === hold.accountId
      ? withCredit(a, payment.credit, context.timestamp)
      : a,
  );
  const captured = (paymentId: string | null): HoldState => ({
    ...hold,
    status: 'CAPTURED',
    capturedAmount: amount,
    captureMovementId: context.movementId,
    capturePaymentId: paymentId,
    captureTimestamp: context.timestamp,
    resolvedAt: context.timestamp,
  });
  const balance = accounts.find((a) => a.accountId === hold.accountId)!.balance;
  return {
    ok: true,
    accounts,
    holds: [captured(null)],
    needsPaymentId: payment !== undefined,
    finish: (paymentId) => {
      // A payment capture writes what POST /payments writes; a transfer capture, its lines.
      const paid = payment
        ? paymentEffects(
            { accountId: hold.accountId, amount, ...payment },
            posted.lines,
            paymentId,
            context,
          )
        : { lines: posted.lines, credits: [], records: [], events: [], facts: null };
      const done = captured(paid.facts?.paymentId ?? null);
      return {
        lines: paid.lines,
        credits: paid.credits,
        records: paid.records,
        holds: [done],
        result: {
          transactionId: context.movementId,
          timestamp: context.timestamp,
          balance,
          hold: done,
          paymentId: done.capturePaymentId,
          payment: paid.facts,
        },
        events: [...(paid.events ?? []), holdEvent('hold.captured', done, context.timestamp)],
      };
    },
  };
}

/** Voids a hold: its whole amount is released; nothing is booked. */
function decideVoidHold(
  command: Extract<LedgerCommand, { kind: 'voidHold' }>,
  lookup: AccountLookup,
  holds: HoldLookup,
  context: RuleContext,
): Decision<HoldState> {
  const hold = activeHold(holds, command.holdId);
  if (!isHold(hold)) return hold;
  const account = lookup(hold.accountId);
  if (!account) return refuse(new AccountNotFoundException(hold.accountId));
  const voided: HoldState = { ...hold, status: 'VOIDED', resolvedAt: context.timestamp };
  return holdChanged(releaseHold(account, hold), voided, 'hold.voided', context);
}

/**
 * Expires an account's AUTHORIZED holds whose time has come (`due`, read under its lock):
 * each is EXPIRED as of its `expiresAt` and its amount released. `next` is the earliest expiry
 * of the account's holds still AUTHORIZED after.
 */
export function expireHolds(
  account: AccountState,
  due: readonly HoldState[],
  next: number | null,
): { account: AccountState; holds: HoldState[]; events: EventDraft[] } {
  let state = account;
  const holds = due.map((hold): HoldState => {
    state = releaseHold(state, hold);
    return { ...hold, status: 'EXPIRED', resolvedAt: hold.expiresAt };
  });
  return {
    account: { ...state, nextHoldExpiresAt: next },
    holds,
    events: holds.map((hold) => holdEvent('hold.expired', hold, hold.expiresAt)),
  };
}

/** A `hold.*` event: the Hold as it is now, for its account and its target. */
function holdEvent(type: string, hold: HoldState, occurredAt: number): EventDraft {
  return {
    type,
    accountIds:
      hold.targetAccountId === null ? [hold.accountId] : [hold.accountId, hold.targetAccountId],
    occurredAt,
    data: holdResource(hold),
  };
}
