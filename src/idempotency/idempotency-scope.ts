import { AsyncLocalStorage } from 'node:async_hooks';

/** A response as it was first sent: status and the exact body text. */
export interface StoredResponse {
  statusCode: number;
  body: string;
}

/**
 * One POST request carrying an Idempotency-Key, from the interceptor's point of view. The
 * code that runs the request's effects (the ledger engine, inside its batch transaction) takes
 * the key from here, stores the response with the effects, and leaves the response to send in
 * `answer`: the first answer and every replay are then the very same stored string.
 */
export interface IdempotencyScope {
  readonly key: string;
  /** Method, path and body: a replay must match it. */
  readonly fingerprint: string;
  /** The status a successful handler answers with (its `@HttpCode`). */
  readonly successStatus: number;
  /** Set once the key is settled: what to send, and whether it is a replay. */
  answer?: StoredResponse & { replayed: boolean };
}

const scopes = new AsyncLocalStorage<IdempotencyScope>();

/** Runs `work` (the request's handler) inside the scope of its Idempotency-Key. */
export function runInIdempotencyScope<T>(scope: IdempotencyScope, work: () => Promise<T>) {
  return scopes.run(scope, work);
}

/** The Idempotency-Key scope of the request being handled, if it sent one. */
export function currentIdempotencyScope(): IdempotencyScope | undefined {
  return scopes.getStore();
}

/**
 * Rejects a replayed request's handler: its stored answer is in the scope, and there is no
 * fresh result to return. Only the idempotency interceptor ever sees it.
 */
export class ReplayedResponse extends Error {
  constructor() {
    super('answered from the stored response of its Idempotency-Key');
    this.name = 'ReplayedResponse';
  }
}
