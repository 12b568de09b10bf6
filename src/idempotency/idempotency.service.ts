import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { DomainException } from '../common/errors/domain.exception';
import { toProblem } from '../common/errors/to-problem';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { EntityManager } from 'typeorm';
import {
  currentIdempotencyScope,
  ReplayedResponse,
  type IdempotencyScope,
  type StoredResponse,
} from './idempotency-scope';
import { IdempotencyRepository, StoredKey } from './idempotency.repository';

export type IdempotentAnswer = StoredResponse & { replayed: boolean };

/** Rolls the unit of work back: another request with the same key committed first. */
class KeyTakenByAnotherRequest extends Error {}

export function inProgress(): DomainException {
  return new DomainException(
    'IDEMPOTENCY_KEY_IN_PROGRESS',
    'A request with this Idempotency-Key is still being processed. Retry later.',
  );
}

export function keyReused(): DomainException {
  return new DomainException(
    'IDEMPOTENCY_KEY_REUSED',
    'This Idempotency-Key was already used with a different method, path or body.',
  );
}

/**
 * Keys whose request failed before reaching the code that stores responses with effects (the
 * ledger engine stores those inside its batch): a body that fails validation, say. Such a 4xx
 * is stored too, so the first answer of a key is the one every replay gets; a 5xx is never
 * stored.
 *
 * Concurrency: a transaction-scoped advisory lock on the key (the same the engine takes)
 * answers a second request while the first runs (409, without waiting); the primary key of
 * `idempotency_keys` settles the rare race the lock cannot see (a commit between the read's
 * snapshot and the lock), by answering with the winner's response.
 */
@Injectable()
export class IdempotencyService {
  private readonly ttlMs: number;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly repository: IdempotencyRepository,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.ttlMs = config.get('IDEMPOTENCY_TTL_MS');
  }

  /**
   * Runs a POST's own unit of work (one that is not a ledger command) and, when the request
   * carries an Idempotency-Key, stores its response in the same transaction: a replay gets
   * the stored answer and runs nothing. `present` must be pure (its JSON is what is stored).
   */
  async run<T, D>(
    work: (manager: EntityManager) => Promise<T>,
    present: (result: T) => D,
  ): Promise<D> {
    const scope = currentIdempotencyScope();
    if (!scope) return present(await this.transactions.run(work));
    let outcome: { response: D; answer: IdempotentAnswer } | { replayed: IdempotentAnswer };
    try {
      outcome = await this.transactions.run(async (manager) => {
        const now = this.clock.now();
        const { locked, stored } = await this.repository.lockAndFind(manager, scope.key, now);
        if (stored) return { replayed: replay(stored, scope) };
        if (!locked) throw inProgress();
        const response = present(await work(manager));
        const record = {
          statusCode: scope.successStatus,
          body: JSON.stringify(response) ?? '',
          fingerprint: scope.fingerprint,
        };
        if (!(await this.repository.insert(manager, scope.key, record, now, now + this.ttlMs))) {
          throw new KeyTakenByAnotherRequest();
        }
        return {
          response,
          answer: { statusCode: record.statusCode, body: record.body, replayed: false },
        };
      });
    } catch (failure) {
      if (!(failure instanceof KeyTakenByAnotherRequest)) throw failure;
      const stored = await this.transactions.run((manager) =>
        this.repository.find(manager, scope.key, this.clock.now()),
      );
      if (!stored) throw inProgress();
      outcome = { replayed: replay(stored, scope) };
    }
    if ('replayed' in outcome) {
      scope.answer = outcome.replayed;
      throw new ReplayedResponse();
    }
    // Only once committed: the interceptor sends the scope's answer.
    scope.answer = outcome.answer;
    return outcome.response;
  }

  /**
   * The answer for a keyed request whose handler threw `error` before its key was stored: a
   * replay if the key already has a response, else the error's 4xx, stored now. Anything that
   * is not a 4xx is re-thrown, unstored.
   */
  async answerFailure(scope: IdempotencyScope, error: unknown): Promise<IdempotentAnswer> {
    const problem = toProblem(error);
    if (!problem || problem.status < 400 || problem.status >= 500) throw error;
    const response = { statusCode: problem.status, body: JSON.stringify(problem) };
    try {
      return await this.transactions.run(async (manager) => {
        const now = this.clock.now();
        const { locked, stored } = await this.repository.lockAndFind(manager, scope.key, now);
        if (stored) return replay(stored, scope);
        if (!locked) throw inProgress();
        const record = { ...response, fingerprint: scope.fingerprint };
        if (!(await this.repository.insert(manager, scope.key, record, now, now + this.ttlMs))) {
          throw new KeyTakenByAnotherRequest();
        }
        return { ...response, replayed: false };
      });
    } catch (failure) {
      if (!(failure instanceof KeyTakenByAnotherRequest)) throw failure;
    }
    const stored = await this.transactions.run((manager) =>
      this.repository.find(manager, scope.key, this.clock.now()),
    );
    if (stored) return replay(stored, scope);
    throw inProgress();
  }
}

function replay(stored: StoredKey, scope: IdempotencyScope): IdempotentAnswer {
  if (stored.fingerprint !== scope.fingerprint) throw keyReused();
  return { statusCode: stored.statusCode, body: stored.body, replayed: true };
}
