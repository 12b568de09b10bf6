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
}

/** A row a command adds to a table the ledger does not own (e.g. `payments`). */
export interface LedgerRecord {
  /** The TypeORM entity class of the table. Rows of one entity are inserted in one statement. */
  readonly entity: abstract new () => object;
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

/** Locks the accounts so that credits already due on them are booked (settle-on-touch). */
export interface Settle {
  readonly kind: 'settle';
  readonly accountIds: readonly string[];
}

export type LedgerCommand = OpenAccount | Deposit | Withdrawal | Transfer | PaymentCommand | Settle;

export interface MovementResult {
  readonly transactionId: string;
  readonly timestamp: number;
}

/** What each kind of command answers when accepted. */
export interface ResultOf {
  openAccount: AccountState;
  deposit: MovementResult & { readonly balance: number };
  withdrawal: MovementResult & { readonly balance: number };
  transfer: MovementResult & { readonly sourceBalance: number; readonly targetBalance: number };
  payment: PaymentFacts & { readonly balance: number };
  settle: Record<string, never>;
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
