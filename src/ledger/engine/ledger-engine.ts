import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock';
import { DomainException } from '../../common/errors/domain.exception';
import { problem } from '../../common/errors/problem';
import { AppConfig } from '../../config/app-config';
import { isBusyError, isConnectionError } from '../../common/errors/pg-errors';
import { TransactionRunner } from '../../database/transaction-runner';
import {
  currentIdempotencyScope,
  IdempotencyScope,
  ReplayedResponse,
  StoredResponse,
} from '../../idempotency/idempotency-scope';
import { IdempotencyRepository, KeyState } from '../../idempotency/idempotency.repository';
import { inProgress, keyReused } from '../../idempotency/idempotency.service';
import { MetricsService } from '../../observability/metrics/metrics.service';
import { ENTRY_TYPES } from '../ledger-entry.entity';
import { AccountsRepository } from '../repositories/accounts.repository';
import { HoldsRepository } from '../repositories/holds.repository';
import { LedgerRepository, OutboxSlot } from '../repositories/ledger.repository';
import { ScheduledCreditsRepository } from '../repositories/scheduled-credits.repository';
import type {
  AccountState,
  EventDraft,
  HoldState,
  CommandResult,
  CreditChange,
  EntryLine,
  LedgerCommand,
  LedgerRecord,
  LedgerRecordUpdate,
  NewCredit,
  RefundableState,
} from './commands';
import {
  accountsOf,
  afterCreditSettled,
  commandTimestamp,
  decide,
  Effects,
  expireHolds,
  refundOf,
  RelatedLookup,
  reversalOf,
  settleCredits,
} from './rules';

/** A submitted command waiting for its batch. */
interface Pending {
  readonly command: LedgerCommand;
  /** Pure: the response the caller sends for an accepted command (stored for its key). */
  readonly present: (result: never) => unknown;
  readonly scope: IdempotencyScope | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** How one command of a committed batch ended. */
type Outcome =
  | { kind: 'accepted'; response: unknown; answer?: StoredResponse }
  | { kind: 'refused'; error: DomainException; answer?: StoredResponse }
  | { kind: 'replayed'; answer: StoredResponse }
  /** Refused without storing anything (its key is busy or was used for another request). */
  | { kind: 'unstored'; error: DomainException };

/**
 * The batch must be decided again from fresh locks: a row it was going to insert (an account
 * id, an idempotency key) was inserted by another transaction since the batch read it.
 */
class BatchConflict extends Error {}

const MAX_CONFLICT_RERUNS = 3;

/**
 * The ledger's write path: every money movement, account opening and credit settlement is a
 * command submitted here. Commands that arrive while batches are in flight queue and form the
 * next batch (no timer: an idle engine runs a batch of one at once). One batch is ONE
 * TransactionRunner unit of work:
 *
 * 1. lock every account of every command with `pessimistic_write`, in one query, id order;
 * 2. book the scheduled credits already due on those accounts;
 * 3. look up (and advisory-lock) the batch's idempotency keys, and the refund and reversal
 *    state its refunds and reversals read (one statement per kind);
 * 4. decide each command in arrival order with its pure rule against the evolving state: a
 *    refused command gets its own 4xx and changes nothing; later ones see earlier effects;
 * 5. draw payment ids for the accepted payments, in one statement;
 * 6. write: opened accounts, then all entries and account states in one statement, then the
 *    rows each command adds (one statement per table), then the stored responses;
 * 7. COMMIT, then answer every request.
 *
 * Serial behaviour is batch order. A 40001/40P01 retries the whole batch (TransactionRunner);
 * any other database error re-runs the batch's commands one at a time, so a poison command
 * fails alone; a lost connection fails the batch (503, nothing changed, unless the lost-COMMIT
 * check finds it committed).
 */
@Injectable()
export class LedgerEngine implements OnApplicationShutdown {
  private readonly logger = new Logger(LedgerEngine.name);
  private readonly queue: Pending[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly maxQueue: number;
  private readonly idempotencyTtlMs: number;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly accounts: AccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly credits: ScheduledCreditsRepository,
    private readonly holds: HoldsRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.maxBatch = config.get('LEDGER_MAX_BATCH');
    this.maxInFlight = config.get('LEDGER_BATCHES_IN_FLIGHT');
    this.maxQueue = config.get('LEDGER_MAX_QUEUE');
    this.idempotencyTtlMs = config.get('IDEMPOTENCY_TTL_MS');
    metrics.declareEntryTypes(ENTRY_TYPES);
  }

  /** Commands waiting for a batch (not yet in flight). */
  get queued(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get running(): number {
    return this.inFlight;
  }

  /**
   * Submits a command and waits for its own outcome: `present(result)` once its batch has
   * committed, or its domain error. `present` must be pure: for a request with an
   * Idempotency-Key its JSON is stored, in the batch, as the response every replay sends.
   */
  submit<C extends LedgerCommand, D>(
    command: C,
    present: (result: CommandResult<C>) => D,
  ): Promise<D> {
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new DomainException(
          'SERVICE_BUSY',
          `${this.queue.length} requests are already waiting for the ledger; nothing changed. Retry later.`,
        ),
      );
    }
    return new Promise<D>((resolve, reject) => {
      this.queue.push({
        command,
        present: present,
        // A settlement is the engine's own business, never the answer to a keyed request.
        scope: command.kind === 'settle' ? undefined : currentIdempotencyScope(),
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.pump();
    });
  }

  /** Books the credits already due on these accounts (the background worker). */
  async settle(accountIds: readonly string[]): Promise<void> {
    await this.submit({ kind: 'settle', accountIds }, () => undefined);
  }

  /**
   * Books every credit already due on any account (GET /audit first does this, so it sees what
   * every balance read sees). Bounded: with credits falling due continuously it stops after a
   * fixed number of rounds rather than chase them forever.
   */
  async settleAllDue(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const accountIds = await this.accountsWithSomethingDue(1000);
      if (accountIds.length === 0) return;
      await this.settle(accountIds);
    }
  }

  /**
   * Accounts with a credit due or a hold to expire now, at most `limit` of each (the sweeper
   * and GET /audit settle them).
   */
  async accountsWithSomethingDue(limit: number): Promise<string[]> {
    const now = this.clock.now();
    const [credits, holds] = await Promise.all([
      this.credits.accountsWithDueCredits(now, limit),
      this.accounts.accountsWithHoldsToExpire(now, limit),
    ]);
    return [...new Set([...credits, ...holds])];
  }

  /**
   * Settle-on-touch for reads: when the account has a credit due or a hold to expire, books
   * or expires it in a batch before the read, so a read that starts after a due time sees it.
   * Free when nothing is due (the caller passes the row it already read). True when it
   * settled something.
   */
  async settleBeforeRead(
    account: Pick<AccountState, 'accountId' | 'nextCreditDueAt' | 'nextHoldExpiresAt'>,
  ): Promise<boolean> {
    const now = this.clock.now();
    const due = (at: number | null) => at !== null && at <= now;
    if (!due(account.nextCreditDueAt) && !due(account.nextHoldExpiresAt)) return false;
    await this.settle([account.accountId]);
    return true;
  }

  /**
   * Waits for every queued and running batch. Nest closes the HTTP server (waiting for the
   * requests in flight, whose commands are these) before the shutdown hooks, so by now this is
   * a safety net; draining earlier, in a destroy hook, would keep the server listening.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => (this.drained = resolve));
  }

  /**
   * Batches run in the engine's own async context (bound at construction), not in that of the
   * request that happened to start them: its request id, idempotency scope or unit of work
   * must not leak into a batch that serves many requests.
   */
  private readonly executeDetached = AsyncResource.bind((batch: Pending[]) => this.execute(batch));

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.executeDetached(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) this.drained?.();
      });
    }
  }

  /** Runs a batch to the end and answers every command in it; never rejects. */
  private async execute(batch: Pending[]): Promise<void> {
    for (let conflicts = 0; ; conflicts++) {
      try {
        const outcomes = await this.transactions.run((manager) =>
          this.decideAndWrite(manager, batch),
        );
        this.metrics.observeBatch(batch.length);
        batch.forEach((pending, i) => answer(pending, outcomes[i]));
        return;
      } catch (error) {
        if (error instanceof BatchConflict && conflicts < MAX_CONFLICT_RERUNS) continue;
        // Not for a lost database or a timeout: every command would only meet it again.
        if (batch.length > 1 && !isConnectionError(error) && !isBusyError(error)) {
          // One poison command must not fail the others: each runs again on its own.
          this.logger.warn(
            `a batch of ${batch.length} failed (${String(error)}); re-running its commands one by one`,
          );
          for (const pending of batch) await this.execute([pending]);
          return;
        }
        for (const pending of batch) pending.reject(error);
        return;
      }
    }
  }

  /** One attempt at a batch, inside its unit of work. Returns each command's outcome. */
  private async decideAndWrite(manager: EntityManager, batch: Pending[]): Promise<Outcome[]> {
    const locked = await this.accounts.lockForUpdate(
      manager,
      batch.flatMap((p) => accountsOf(p.command)),
    );
    if (locked.xactId) this.transactions.noteTransactionId(locked.xactId);
    // Taken after the locks: a movement stamped `now` commits right after it, not after a wait.
    const now = this.clock.now();
    const state = new Map<string, AccountState>(locked.accounts.map((a) => [a.accountId, a]));
    const touched = new Set<string>();
    const lines: EntryLine[] = [];

    const settled = await this.settleDueCredits(manager, state, now, lines);
    for (const accountId of settled.accounts) touched.add(accountId);
    const holds = await this.loadHolds(manager, batch, state, now);
    for (const accountId of holds.expiredOn) touched.add(accountId);
    const events: OutboxSlot[] = [
      ...settled.events,
      ...holds.expired.map((draft): OutboxSlot => ({ kind: 'draft', draft })),
    ];

    const keys = await this.lookUpKeys(manager, batch, now);
    const related = await this.loadRelated(manager, batch, settled.booked);
    const decidedKeys = new Map<string, { fingerprint: string; answer: StoredResponse }>();
    const outcomes: Outcome[] = [];
    const accepted: {
      index: number;
      needsPaymentId: boolean;
      finish: (id?: string) => Effects<unknown>;
    }[] = [];
    const opened: AccountState[] = [];
    const lookup = (id: string) => state.get(id);

    batch.forEach((pending, index) => {
      const early = pending.scope && this.replayOrRefuse(pending.scope, keys, decidedKeys);
      if (early) {
        outcomes.push(early);
        return;
      }
      const context = {
        timestamp: commandTimestamp(pending.command, now, lookup),
        movementId: randomUUID(),
      };
      const decision = decide(
        pending.command,
        lookup,
        context,
        (id) => holds.state.get(id),
        related.lookup,
      );
      if (!decision.ok) {
        outcomes.push({ kind: 'refused', error: decision.error });
        return;
      }
      if (decision.opened) opened.push(decision.opened);
      for (const hold of decision.holds ?? []) holds.set(hold);
      for (const account of decision.accounts) {
        state.set(account.accountId, account);
        touched.add(account.accountId);
      }
      for (const refundable of decision.refundables ?? []) {
        related.refundables.set(refundable.paymentId, refundable);
      }
      for (const { transactionId, reversed } of decision.reversed ?? []) {
        related.reversed.set(transactionId, reversed);
      }
      accepted.push({ index, needsPaymentId: decision.needsPaymentId, finish: decision.finish });
      outcomes.push({ kind: 'accepted', response: undefined });
    });

    const paymentIds = await this.drawPaymentIds(
      manager,
      accepted.filter((a) => a.needsPaymentId).length,
    );
    const credits: NewCredit[] = [];
    const records: LedgerRecord[] = [];
    const updates: LedgerRecordUpdate[] = [];
    const creditChanges: CreditChange[] = [];
    const finished: { index: number; effects: Effects<unknown>; firstLine: number }[] = [];
    for (const { index, needsPaymentId, finish } of accepted) {
      const effects = finish(needsPaymentId ? paymentIds.shift() : undefined);
      finished.push({ index, effects, firstLine: lines.length });
      for (const draft of effects.events ?? []) events.push({ kind: 'draft', draft });
      for (const movementId of new Set(effects.lines.map((l) => l.movementId))) {
        events.push({ kind: 'posted', movementId });
      }
      lines.push(...effects.lines);
      credits.push(...effects.credits);
      records.push(...effects.records);
      updates.push(...(effects.updates ?? []));
      creditChanges.push(...(effects.creditChanges ?? []));
      for (const hold of effects.holds ?? []) holds.set(hold);
    }

    if (opened.length > 0) {
      const { inserted, xactId } = await this.accounts.insert(manager, opened);
      if (xactId) this.transactions.noteTransactionId(xactId);
      if (inserted.size !== opened.length)
        throw new BatchConflict('an account id was taken meanwhile');
    }
    let entryIds: string[] = [];
    const changedHolds = [...holds.changed].map((id) => holds.state.get(id)!);
    const newHolds = changedHolds.filter((h) => !holds.loaded.has(h.holdId));
    if (newHolds.length > 0) await this.holds.insert(manager, newHolds);
    const updatedHolds = changedHolds.filter((h) => holds.loaded.has(h.holdId));
    if (updatedHolds.length > 0) await this.holds.update(manager, updatedHolds);
    if (lines.length > 0 || touched.size > 0) {
      const accounts = [...touched].map((id) => state.get(id)!);
      const posted = await this.ledger.post(manager, lines, accounts, events);
      if (posted.xactId) this.transactions.noteTransactionId(posted.xactId);
      this.transactions.afterCommit(() => this.metrics.countEvents(posted.events));
      entryIds = posted.entryIds;
    }
    // Presented once the entries have their ids (a reversal shows them).
    for (const { index, effects, firstLine } of finished) {
      const result = effects.resultWithEntryIds
        ? effects.resultWithEntryIds(entryIds.slice(firstLine, firstLine + effects.lines.length))
        : effects.result;
      outcomes[index] = { kind: 'accepted', response: batch[index].present(result as never) };
    }
    // Responses to store, in batch order: a key decided twice in the batch is stored once.
    const toStore = this.answersToStore(batch, outcomes, decidedKeys);
    if (settled.references.length > 0) {
      const count = await this.credits.markSettled(manager, settled.references, now);
      if (count !== settled.references.length) {
        throw new Error(
          `credit settlement raced: ${settled.references.length} due, ${count} marked (are the accounts locked?)`,
        );
      }
    }
    if (creditChanges.length > 0) await this.credits.change(manager, creditChanges);
    if (credits.length > 0) await this.credits.insert(manager, credits);
    if (records.length > 0) await this.ledger.insertRecords(manager, records);
    if (updates.length > 0) await this.ledger.updateRecords(manager, updates);
    if (toStore.length > 0) {
      const { stored, xactId } = await this.idempotency.insertMany(
        manager,
        toStore,
        now,
        now + this.idempotencyTtlMs,
      );
      if (xactId) this.transactions.noteTransactionId(xactId);
      if (stored.size !== toStore.length)
        throw new BatchConflict('an idempotency key was stored meanwhile');
    }
    this.transactions.afterCommit(() => this.metrics.countEntries(lines.map((l) => l.type)));
    return outcomes;
  }

  /**
   * Books the credits due on the locked accounts, each account up to its own threshold (the
   * later of `now` and its newest entry: no entry of the account may predate a credit still
   * pending). Lines are appended before any command's, in due order.
   */
  private async settleDueCredits(
    manager: EntityManager,
    state: Map<string, AccountState>,
    now: number,
    lines: EntryLine[],
  ): Promise<{
    accounts: string[];
    references: { reference: string; movementId: string | null }[];
    events: OutboxSlot[];
    /** The amount booked for each settled credit, by reference. */
    booked: Map<string, number>;
  }> {
    const thresholds = new Map<string, number>();
    for (const account of state.values()) {
      const threshold = Math.max(now, account.lastEntryAt);
      if (account.nextCreditDueAt !== null && account.nextCreditDueAt <= threshold) {
        thresholds.set(account.accountId, threshold);
      }
    }
    if (thresholds.size === 0) {
      return { accounts: [], references: [], events: [], booked: new Map() };
    }
    const { due, next } = await this.credits.findDue(manager, thresholds);
    const references = due.map((credit) => ({
      reference: credit.reference,
      movementId: credit.amount > 0 ? randomUUID() : null,
    }));
    const settledLines: EntryLine[] = [];
    for (const accountId of thresholds.keys()) {
      const mine = due
        .map((credit, i) => ({ credit, i }))
        .filter(({ credit }) => credit.accountId === accountId);
      const result = settleCredits(
        state.get(accountId)!,
        mine.map(({ credit }) => credit),
        next.get(accountId) ?? null,
        mine.map(({ i }) => references[i].movementId),
      );
      state.set(accountId, result.account);
      settledLines.push(...result.lines);
    }
    // Across accounts, in due order (then the credits' own order), like the reads expect.
    const order = new Map(due.map((credit, i) => [credit.reference, i]));
    settledLines.sort((a, b) => order.get(a.paymentId!)! - order.get(b.paymentId!)!);
    lines.push(...settledLines);
    // Per credit, in due order: its CASHBACK movement (none for 0), then the payment's event.
    const events = due.flatMap((credit, i): OutboxSlot[] => {
      const movementId = references[i].movementId;
      const credited: OutboxSlot = {
        kind: 'credited',
        reference: credit.reference,
        accountId: credit.accountId,
        occurredAt: credit.dueAt,
      };
      return movementId ? [{ kind: 'posted', movementId }, credited] : [credited];
    });
    const booked = new Map(due.map((credit) => [credit.reference, credit.amount]));
    return { accounts: [...thresholds.keys()], references, events, booked };
  }

  /**
   * The refund state of the batch's refunds and the reversed amounts of its reversals, read
   * after the account locks (which serialize every refund of a payment and every reversal of a
   * movement) in one statement per kind; a credit the batch's settlement just booked counts
   * as settled. The maps evolve with the batch's decisions.
   */
  private async loadRelated(
    manager: EntityManager,
    batch: Pending[],
    booked: ReadonlyMap<string, number>,
  ): Promise<{
    refundables: Map<string, RefundableState>;
    reversed: Map<string, number>;
    lookup: RelatedLookup;
  }> {
    const paymentIds = batch.flatMap((p) => refundOf(p.command) ?? []);
    const movementIds = batch.flatMap((p) => reversalOf(p.command) ?? []);
    const refundables = new Map<string, RefundableState>();
    if (paymentIds.length > 0) {
      for (const loaded of await this.ledger.refundables(manager, paymentIds)) {
        const amount = booked.get(loaded.paymentId);
        refundables.set(
          loaded.paymentId,
          amount === undefined ? loaded : afterCreditSettled(loaded, amount),
        );
      }
    }
    const reversed =
      movementIds.length > 0
        ? await this.ledger.reversedAmounts(manager, movementIds)
        : new Map<string, number>();
    return {
      refundables,
      reversed,
      lookup: {
        refundable: (paymentId) => refundables.get(paymentId),
        reversed: (movementId) => reversed.get(movementId) ?? 0,
      },
    };
  }

  /**
   * The holds the batch works on, after its accounts are locked (and so in the same order
   * everywhere: accounts by id, then holds): first, the AUTHORIZED holds of the locked accounts
   * whose expiry has come (each account up to the later of `now` and its newest entry), which
   * are EXPIRED and released here, before any command is decided; then, locked, the holds the
   * batch's captures and voids name. Costs no statement in a batch that has neither.
   */
  private async loadHolds(
    manager: EntityManager,
    batch: Pending[],
    state: Map<string, AccountState>,
    now: number,
  ): Promise<{
    state: Map<string, HoldState>;
    loaded: Set<string>;
    changed: Set<string>;
    expiredOn: string[];
    /** The `hold.expired` events of the holds expired here. */
    expired: EventDraft[];
    set: (hold: HoldState) => void;
  }> {
    const holds = new Map<string, HoldState>();
    const loaded = new Set<string>();
    const changed = new Set<string>();
    const set = (hold: HoldState) => {
      holds.set(hold.holdId, hold);
      changed.add(hold.holdId);
    };
    const expired: EventDraft[] = [];
    const thresholds = new Map<string, number>();
    for (const account of state.values()) {
      const threshold = Math.max(now, account.lastEntryAt);
      if (account.nextHoldExpiresAt !== null && account.nextHoldExpiresAt <= threshold) {
        thresholds.set(account.accountId, threshold);
      }
    }
    if (thresholds.size > 0) {
      const { due, next } = await this.holds.lockExpiring(manager, thresholds);
      for (const accountId of thresholds.keys()) {
        const result = expireHolds(
          state.get(accountId)!,
          due.filter((hold) => hold.accountId === accountId),
          next.get(accountId) ?? null,
        );
        state.set(accountId, result.account);
        expired.push(...result.events);
        for (const hold of result.holds) {
          loaded.add(hold.holdId);
          set(hold);
        }
      }
    }
    const wanted = batch.flatMap(({ command }) =>
      (command.kind === 'captureHold' || command.kind === 'voidHold') && !holds.has(command.holdId)
        ? [command.holdId]
        : [],
    );
    if (wanted.length > 0) {
      for (const hold of await this.holds.lockByIds(manager, wanted)) {
        holds.set(hold.holdId, hold);
        loaded.add(hold.holdId);
      }
    }
    return { state: holds, loaded, changed, expiredOn: [...thresholds.keys()], expired, set };
  }

  private async lookUpKeys(
    manager: EntityManager,
    batch: Pending[],
    now: number,
  ): Promise<Map<string, KeyState>> {
    const keys = batch.flatMap((p) => (p.scope ? [p.scope.key] : []));
    if (keys.length === 0) return new Map();
    return this.idempotency.lockAndFindMany(manager, keys, now);
  }

  /**
   * A keyed command already answered (in the database, or earlier in this batch) is replayed,
   * or refused when its method, path or body differ; one whose key another transaction holds
   * is IN_PROGRESS. Undefined: decide it.
   */
  private replayOrRefuse(
    scope: IdempotencyScope,
    keys: Map<string, KeyState>,
    decidedKeys: Map<string, { fingerprint: string; answer: StoredResponse }>,
  ): Outcome | undefined {
    const key = keys.get(scope.key);
    const earlier = decidedKeys.get(scope.key) ?? key?.stored;
    if (earlier) {
      if (earlier.fingerprint !== scope.fingerprint) {
        return { kind: 'unstored', error: keyReused() };
      }
      const answer =
        'answer' in earlier
          ? earlier.answer
          : { statusCode: earlier.statusCode, body: earlier.body };
      return { kind: 'replayed', answer };
    }
    if (!key?.locked) {
      return { kind: 'unstored', error: inProgress() };
    }
    // Decided below; later commands of the batch with this key replay its answer.
    decidedKeys.set(scope.key, {
      fingerprint: scope.fingerprint,
      answer: { statusCode: 0, body: '' },
    });
    return undefined;
  }

  /**
   * Fills in the answers of the batch's keyed commands and lists those to store. The
   * placeholder `replayOrRefuse` left for a key is completed here, before any later command
   * with the same key is answered (answers go out only after COMMIT).
   */
  private answersToStore(
    batch: Pending[],
    outcomes: Outcome[],
    decidedKeys: Map<string, { fingerprint: string; answer: StoredResponse }>,
  ): { key: string; fingerprint: string; statusCode: number; body: string }[] {
    const toStore: { key: string; fingerprint: string; statusCode: number; body: string }[] = [];
    batch.forEach((pending, i) => {
      const scope = pending.scope;
      const outcome = outcomes[i];
      if (!scope || (outcome.kind !== 'accepted' && outcome.kind !== 'refused')) return;
      const answer =
        outcome.kind === 'accepted'
          ? { statusCode: scope.successStatus, body: JSON.stringify(outcome.response) ?? '' }
          : toStoredProblem(outcome.error);
      outcome.answer = answer;
      const decided = decidedKeys.get(scope.key)!;
      decided.answer.statusCode = answer.statusCode;
      decided.answer.body = answer.body;
      toStore.push({ key: scope.key, fingerprint: scope.fingerprint, ...answer });
    });
    return toStore;
  }

  private async drawPaymentIds(manager: EntityManager, count: number): Promise<string[]> {
    return count > 0 ? this.ledger.nextPaymentIds(manager, count) : [];
  }
}

function toStoredProblem(error: DomainException): StoredResponse {
  const body = problem(error.code, error.detail, error.errors, error.status);
  return { statusCode: body.status, body: JSON.stringify(body) };
}

/** Answers one request once its batch has committed. */
function answer(pending: Pending, outcome: Outcome): void {
  const scope = pending.scope;
  switch (outcome.kind) {
    case 'accepted':
      if (scope && outcome.answer) scope.answer = { ...outcome.answer, replayed: false };
      pending.resolve(outcome.response);
      return;
    case 'refused':
      if (scope && outcome.answer) scope.answer = { ...outcome.answer, replayed: false };
      pending.reject(outcome.error);
      return;
    case 'replayed':
      if (scope) scope.answer = { ...outcome.answer, replayed: true };
      pending.reject(new ReplayedResponse());
      return;
    case 'unstored':
      pending.reject(outcome.error);
      return;
  }
}
