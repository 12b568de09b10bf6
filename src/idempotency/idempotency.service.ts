import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { DomainException } from '../common/errors/domain.exception';
import { toProblem } from '../common/errors/problem-details.filter';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { IdempotencyStore, StoredKey, StoredResponse } from './idempotency.store';

export interface IdempotentRequest {
  key: string;
  fingerprint: string;
}

export interface IdempotentResponse extends StoredResponse {
  /** True when this is a stored response sent again, not the outcome of running the handler. */
  replayed: boolean;
}

/** Rolls the unit of work back: another request with the same key committed first. */
class KeyTakenByAnotherRequest extends Error {}

const SAVEPOINT = 'idempotent_handler';

function inProgress(): DomainException {
  return new DomainException(
    'IDEMPOTENCY_KEY_IN_PROGRESS',
    'A request with this Idempotency-Key is still being processed. Retry later.',
  );
}

/**
 * Runs a request at most once per Idempotency-Key, and stores its response in the SAME
 * transaction as its effects: the handler's own `TransactionRunner.run` joins the unit of work
 * opened here, so money never moves without the stored response, nor the reverse.
 *
 * Concurrency: a transaction-scoped advisory lock on the key answers a second request while
 * the first runs (409, without waiting); the primary key of `idempotency_keys` settles the
 * rare race the lock cannot see (a commit between the read's snapshot and the lock), by
 * rolling the loser's effects back and answering it with the winner's response.
 */
@Injectable()
export class IdempotencyService {
  private readonly ttlMs: number;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly store: IdempotencyStore,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.ttlMs = config.get('IDEMPOTENCY_TTL_MS');
  }

  /**
   * @param successStatus the status a successful handler answers with (its `@HttpCode`).
   * @param handle runs the handler; called again on each retry of the unit of work (40001,
   *   40P01), so it must start the handler afresh every time.
   */
  async execute(
    request: IdempotentRequest,
    successStatus: number,
    handle: () => Promise<unknown>,
  ): Promise<IdempotentResponse> {
    try {
      return await this.transactions.run((manager) =>
        this.attempt(manager, request, successStatus, handle),
      );
    } catch (error) {
      if (!(error instanceof KeyTakenByAnotherRequest)) throw error;
    }
    const stored = await this.transactions.run((manager) =>
      this.store.find(manager, request.key, this.clock.now()),
    );
    if (stored) return this.replay(stored, request);
    throw inProgress();
  }

  private async attempt(
    manager: EntityManager,
    request: IdempotentRequest,
    successStatus: number,
    handle: () => Promise<unknown>,
  ): Promise<IdempotentResponse> {
    const now = this.clock.now();
    const { locked, stored } = await this.store.lockAndFind(manager, request.key, now);
    if (stored) return this.replay(stored, request);
    if (!locked) throw inProgress();

    await manager.query(`SAVEPOINT ${SAVEPOINT}`);
    const response = await this.runHandler(manager, successStatus, handle);
    const record = { ...response, fingerprint: request.fingerprint };
    if (!(await this.store.insert(manager, request.key, record, now, now + this.ttlMs))) {
      throw new KeyTakenByAnotherRequest();
    }
    return { ...response, replayed: false };
  }

  /**
   * The handler's outcome as the response to store: its result, or a 4xx problem. A 4xx is
   * stored without whatever the handler wrote before failing (rolled back to the savepoint,
   * which also revives a transaction a failed statement aborted). Anything else (5xx, unknown,
   * retryable) propagates and is never stored.
   */
  private async runHandler(
    manager: EntityManager,
    successStatus: number,
    handle: () => Promise<unknown>,
  ): Promise<StoredResponse> {
    try {
      const result = await handle();
      // Serialized once, here: the first answer and every replay send this very string.
      return { statusCode: successStatus, body: JSON.stringify(result) ?? '' };
    } catch (error) {
      const problem = toProblem(error);
      if (!problem || problem.status < 400 || problem.status >= 500) throw error;
      await manager.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
      return { statusCode: problem.status, body: JSON.stringify(problem) };
    }
  }

  private replay(stored: StoredKey, request: IdempotentRequest): IdempotentResponse {
    if (stored.fingerprint !== request.fingerprint) {
      throw new DomainException(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used with a different method, path or body.',
      );
    }
    return { statusCode: stored.statusCode, body: stored.body, replayed: true };
  }
}
