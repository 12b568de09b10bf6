import type { EntryType } from '../ledger-entry.entity';

/**
 * The locked state of one account, as the rules see it: the row `pessimistic_write` locked
 * at the start of the batch, then as earlier commands of the batch left it.
 */
export interface AccountState {
  readonly accountId: string;
  readonly currency: string;
  readonly createdAt: number;
  readonly balance: number;
  /** Timestamp of the newest entry: movement timestamps never go backwards per account. */
  readonly lastEntryAt: number;
  /** Earliest due time of the account's pending scheduled credits, or null. */
  readonly nextCreditDueAt: number | null;
  /** Sum of the account's pending scheduled credits (kept free under the balance limit). */
  readonly pendingCredits: number;
  readonly status: AccountStatus;
  /** ≥ 0: the balance may go down to −overdraftLimit. */
  readonly overdraftLimit: number;
  /** Null: no daily limit. */
  readonly dailyDebitLimit: number | null;
  /** Sum of the remaining amounts of the account's AUTHORIZED holds. */
  readonly heldAmount: number;
  /** The UTC day (days since the epoch) that `debitUsed` counts. */
  readonly debitDay: number;
  /** Debits booked (and holds authorized) on `debitDay` that count toward the daily limit. */
  readonly debitUsed: number;
  /** A lower bound of the earliest expiry of the account's AUTHORIZED holds, or null. */
  readonly nextHoldExpiresAt: number | null;
}

export const HOLD_STATUSES = ['AUTHORIZED', 'CAPTURED', 'VOIDED', 'EXPIRED'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** A hold as the rules see it: read (and locked) after its accounts, or created in the batch. */
export interface HoldState {
  readonly holdId: string;
  readonly accountId: string;
  readonly targetAccountId: string | null;
  readonly amount: number;
  readonly status: HoldStatus;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly capturedAmount: number;
  readonly captureMovementId: string | null;
  readonly capturePaymentId: string | null;
  readonly captureTimestamp: number | null;
  readonly resolvedAt: number | null;
}

export const ACCOUNT_STATUSES = ['ACTIVE', 'FROZEN', 'CLOSED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** A row a command adds to a table the ledger does not own (e.g. `payments`). */
export interface LedgerRecord {
  /** The TypeORM entity class of the table. Rows of one entity are inserted in one statement. */
  readonly entity: abstract new () => object;
  readonly values: Record<string, unknown>;
}

/**
 * An UPDATE of a row of a table the ledger does not own (e.g. a payment's refunded amount),
 * applied in the batch after the inserts. Of several updates of one row, the last wins.
 */
export interface LedgerRecordUpdate {
  readonly entity: abstract new () => object;
  /** Column values (entity property names) that identify the row: its primary key. */
  readonly where: Record<string, unknown>;
  readonly values: Record<string, unknown>;
}

/** A credit the command schedules on its account, booked at `delayMs` after its timestamp. */
export interface CreditToSchedule {
  readonly amount: number;
  readonly delayMs: number;
  readonly entryType: 'CASHBACK';
}

/** What a payment's submitter learns once the payment is decided, to build its own record. */
export interface PaymentFacts {
  readonly paymentId: string;
  readonly transactionId: string;
  readonly accountId: string;
  readonly amount: number;
  readonly creditAmount: number;
  readonly creditDueAt: number;
  readonly timestamp: number;
}

export interface OpenAccount {
  readonly kind: 'openAccount';
  readonly accountId: string;
  readonly currency: string;
  /** ≥ 0; a positive one is booked as a DEPOSIT entry. */
  readonly initialDeposit: number;
  /** Pure: the public Account (as GET /accounts/{id} shows it), the `account.created` data. */
  readonly resource: (account: AccountState) => unknown;
  /** Default 0. */
  readonly overdraftLimit?: number;
  /** Default null: no daily limit. */
  readonly dailyDebitLimit?: number | null;
}

/** Changes an account's limits; an absent field keeps its value (null clears the daily limit). */
export interface UpdateAccount {
  readonly kind: 'updateAccount';
  readonly accountId: string;
  readonly overdraftLimit?: number;
  readonly dailyDebitLimit?: number | null;
  /** Pure: the public Account, the `account.updated` data. */
  readonly resource: (account: AccountState) => unknown;
}

/** Freezes, unfreezes or closes an account. */
export interface ChangeStatus {
  readonly kind: 'changeStatus';
  readonly accountId: string;
  readonly action: 'freeze' | 'unfreeze' | 'close';
  /** Pure: the public Account, the `account.updated` data. */
  readonly resource: (account: AccountState) => unknown;
}

export interface Deposit {
  readonly kind: 'deposit';
  readonly accountId: string;
  readonly amount: number;
}

export interface Withdrawal {
  readonly kind: 'withdrawal';
  readonly accountId: string;
  readonly amount: number;
}

export interface Transfer {
  readonly kind: 'transfer';
  readonly sourceAccountId: string;
  readonly targetAccountId: string;
  readonly amount: number;
}

/**
 * Debits the account under a new payment id (drawn from `payment_seq` only once the payment is
 * accepted) and schedules a credit with that id as its reference.
 */
export interface PaymentCommand {
  readonly kind: 'payment';
  readonly accountId: string;
  readonly amount: number;
  readonly credit: CreditToSchedule;
  /** Pure: the submitter's own row for the payment, built from the decided facts. */
  readonly record: (facts: PaymentFacts) => LedgerRecord;
  /** Pure: the public Payment (as GET /payments/{id} shows it), the `payment.created` data. */
  readonly resource: (facts: PaymentFacts) => unknown;
}

/** Reserves `amount` on the account until a capture, a void or `expiresInMs` later. */
export interface AuthorizeHold {
  readonly kind: 'authorizeHold';
  readonly accountId: string;
  /** Null: the capture is a payment; else a transfer to this account. */
  readonly targetAccountId: string | null;
  readonly amount: number;
  readonly expiresInMs: number;
}

/**
 * Moves `amount` (≤ the hold's) of a hold's reserved funds and releases the rest. `accountIds`
 * are the hold's own (its account and target), read by the submitter: the engine locks them,
 * then the hold row.
 */
export interface CaptureHold {
  readonly kind: 'captureHold';
  readonly holdId: string;
  readonly accountIds: readonly string[];
  readonly amount: number;
  /** For a hold without a target: the payment the capture makes, as POST /payments would. */
  readonly payment?: Pick<PaymentCommand, 'credit' | 'record' | 'resource'>;
}

export interface VoidHold {
  readonly kind: 'voidHold';
  readonly holdId: string;
  readonly accountIds: readonly string[];
}

/** Locks the accounts so that credits already due on them are booked (settle-on-touch). */
export interface Settle {
  readonly kind: 'settle';
  readonly accountIds: readonly string[];
}

/** The facts of a payment a refund needs, read before submitting: they never change. */
export interface RefundedPayment {
  readonly paymentId: string;
  readonly accountId: string;
  readonly amount: number;
}

/** What a refund's submitter learns once the refund is decided, to build its own rows. */
export interface RefundFacts {
  readonly paymentId: string;
  readonly transactionId: string;
  readonly accountId: string;
  readonly amount: number;
  /** The CASHBACK_REVERSAL booked with the refund (0 while the cashback is still pending). */
  readonly cashbackAdjustment: number;
  /** The payment's totals after this refund. */
  readonly refundedAmount: number;
  readonly cashbackAmount: number;
  /** The payment's cashback was credited (a refund then reverses part of it). */
  readonly cashbackSettled: boolean;
  readonly timestamp: number;
}

/**
 * Credits back part or all of a payment (a REFUND entry) and adjusts its cashback: the
 * pending credit shrinks, or the credited cashback is partly reversed (CASHBACK_REVERSAL).
 */
export interface RefundCommand {
  readonly kind: 'refund';
  readonly paymentId: string;
  /** The payment, or undefined when there is none (refused PAYMENT_NOT_FOUND). */
  readonly payment: RefundedPayment | undefined;
  /** Undefined: all that is left to refund. */
  readonly amount: number | undefined;
  /** Pure: the cashback a payment earns while this much of it is not refunded. */
  readonly cashbackFor: (unrefunded: number) => number;
  /** Pure: the submitter's rows for the refund, built from the decided facts. */
  readonly records: (facts: RefundFacts) => {
    readonly inserts: readonly LedgerRecord[];
    readonly updates: readonly LedgerRecordUpdate[];
  };
  /** Pure: the public Payment after the refund, the `payment.refunded` data. */
  readonly resource: (facts: RefundFacts) => unknown;
}

/** One entry of a movement to reverse, as read before submitting (entries never change). */
export interface OriginalLine {
  readonly accountId: string;
  readonly type: EntryType;
  readonly amount: number;
  readonly counterpartyAccountId: string | null;
}

/** Books the opposite of (part of) a DEPOSIT, WITHDRAWAL or TRANSFER as REVERSAL entries. */
export interface ReversalCommand {
  readonly kind: 'reversal';
  readonly transactionId: string;
  /** The movement's entries in posting order; empty when it does not exist. */
  readonly original: readonly OriginalLine[];
  /** Undefined: all that is left to reverse. */
  readonly amount: number | undefined;
}

export type LedgerCommand =
  | OpenAccount
  | UpdateAccount
  | ChangeStatus
  | Deposit
  | Withdrawal
  | Transfer
  | PaymentCommand
  | AuthorizeHold
  | CaptureHold
  | VoidHold
  | Settle
  | RefundCommand
  | ReversalCommand;

export interface MovementResult {
  readonly transactionId: string;
  readonly timestamp: number;
}

/** What each kind of command answers when accepted. */
export interface ResultOf {
  openAccount: AccountState;
  updateAccount: AccountState;
  changeStatus: AccountState;
  deposit: MovementResult & { readonly balance: number };
  withdrawal: MovementResult & { readonly balance: number };
  transfer: MovementResult & { readonly sourceBalance: number; readonly targetBalance: number };
  payment: PaymentFacts & { readonly balance: number };
  authorizeHold: HoldState;
  captureHold: {
    readonly hold: HoldState;
    readonly transactionId: string;
    readonly timestamp: number;
    readonly balance: number;
    readonly paymentId: string | null;
    /** For a payment capture: the payment's facts (to answer as POST /payments would). */
    readonly payment: PaymentFacts | null;
  };
  voidHold: HoldState;
  settle: Record<string, never>;
  refund: RefundFacts & { readonly balance: number };
  reversal: {
    readonly transactionId: string;
    readonly reversedTransactionId: string;
    readonly amount: number;
    readonly timestamp: number;
    readonly entries: readonly (EntryLine & { readonly entryId: string })[];
  };
}

export type CommandResult<C extends LedgerCommand> = ResultOf[C['kind']];

/** One ledger entry to write. `amount` is signed: positive credits the account. */
export interface EntryLine {
  readonly movementId: string;
  readonly accountId: string;
  readonly type: EntryType;
  readonly amount: number;
  readonly balanceAfter: number;
  readonly timestamp: number;
  readonly counterpartyAccountId: string | null;
  readonly paymentId: string | null;
  /** Set on REVERSAL lines only. */
  readonly reversedTransactionId?: string | null;
}

/**
 * A payment's refund state, read under its account's lock after the batch's settlement and
 * evolved through the batch (two refunds of one payment in a batch see each other).
 */
export interface RefundableState {
  readonly paymentId: string;
  /** Sum of the payment's REFUND entries. */
  readonly refunded: number;
  /** The current cashback: the pending credit's amount, or the net credited once settled. */
  readonly cashback: number;
  /** Credited: a refund now reverses part of it instead of shrinking it. */
  readonly cashbackSettled: boolean;
}

/**
 * A new amount for a pending scheduled credit. A credit brought down to 0 is in effect
 * cancelled: it books nothing at its due time, yet stays pending until then, so the account's
 * `nextCreditDueAt` stays exact.
 */
export interface CreditChange {
  readonly reference: string;
  readonly amount: number;
}

/** A scheduled credit to insert. */
export interface NewCredit {
  readonly reference: string;
  readonly accountId: string;
  readonly amount: number;
  readonly dueAt: number;
  readonly entryType: 'CASHBACK';
}

/** A pending scheduled credit, as read under its account's lock. */
export interface PendingCredit {
  readonly reference: string;
  readonly accountId: string;
  readonly amount: number;
  readonly dueAt: number;
  readonly entryType: 'CASHBACK';
}

/**
 * An event a command reports, written to the outbox (`events`) in the batch's transaction, so
 * it exists iff the change committed. `transaction.posted` needs no draft: every movement's is
 * written from its inserted entries. A command's drafts come before its movements' events.
 */
export interface EventDraft {
  /** A type of the contract, e.g. `account.created`. */
  readonly type: string;
  /** The accounts the event concerns (`GET /events?accountId=` filters on them). */
  readonly accountIds: readonly string[];
  readonly occurredAt: number;
  /** The public resource, exactly as its GET endpoint shows it. */
  readonly data: unknown;
}
