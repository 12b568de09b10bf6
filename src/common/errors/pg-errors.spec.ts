import {
  QueryRunnerAlreadyReleasedError,
  QueryRunnerProviderAlreadyReleasedError,
  TypeORMError,
} from 'typeorm';
import {
  isBusyError,
  isConnectionError,
  isRetryableTransactionError,
  markCancelledByService,
} from './pg-errors';

const wrapped = (driverError: object) => ({ message: 'query failed', driverError });

describe('pg error classification', () => {
  it('retries only serialization failures and deadlocks, also when wrapped by TypeORM', () => {
    expect(isRetryableTransactionError(wrapped({ code: '40001' }))).toBe(true);
    expect(isRetryableTransactionError(wrapped({ code: '40P01' }))).toBe(true);
    expect(isRetryableTransactionError(wrapped({ code: '23505' }))).toBe(false);
    expect(isRetryableTransactionError(new Error('boom'))).toBe(false);
  });

  it('treats lost connections as unavailability, not as bugs', () => {
    expect(isConnectionError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })).toBe(true);
    expect(isConnectionError(wrapped({ code: '57P01', message: 'terminating connection' }))).toBe(
      true,
    );
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated due to connection timeout'))).toBe(
      true,
    );
    expect(isConnectionError(wrapped({ code: '23514' }))).toBe(false);
    expect(isConnectionError(new TypeError('x is undefined'))).toBe(false);
  });

  it('treats a query runner TypeORM released after its connection died as unavailability', () => {
    // Found by test/faults: pg_terminate_backend between two queries of one transaction.
    expect(isConnectionError(new QueryRunnerAlreadyReleasedError())).toBe(true);
    expect(isConnectionError(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
    expect(isConnectionError(new TypeORMError('Query runner already released'))).toBe(false);
  });

  it('treats statement and lock timeouts and a full pool as busy, not as unavailable', () => {
    const statementTimeout = wrapped({
      code: '57014',
      message: 'canceling statement due to statement timeout',
    });
    const lockTimeout = wrapped({
      code: '55P03',
      message: 'canceling statement due to lock timeout',
    });
    const poolFull = new Error('timeout exceeded when trying to connect');
    for (const error of [statementTimeout, lockTimeout, poolFull]) {
      expect(isBusyError(error)).toBe(true);
      expect(isConnectionError(error)).toBe(false);
    }
    expect(isBusyError(wrapped({ code: '40001' }))).toBe(false);
    expect(isBusyError(wrapped({ code: '57P01', message: 'terminating connection' }))).toBe(false);
    expect(isBusyError(new Error('Connection terminated due to connection timeout'))).toBe(false);
    expect(isBusyError(new Error('boom'))).toBe(false);
  });

  it('treats a cancel the service requested itself as unavailability, never as busy', () => {
    const cancelled = markCancelledByService(
      wrapped({ code: '57014', message: 'canceling statement due to user request' }),
    );
    expect(isBusyError(cancelled)).toBe(false);
    expect(isConnectionError(cancelled)).toBe(true);
  });
});
