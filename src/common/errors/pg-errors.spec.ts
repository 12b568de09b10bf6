import {
  QueryRunnerAlreadyReleasedError,
  QueryRunnerProviderAlreadyReleasedError,
  TypeORMError,
} from 'typeorm';
import { isConnectionError, isRetryableTransactionError } from './pg-errors';

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
    expect(isConnectionError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isConnectionError(wrapped({ code: '23514' }))).toBe(false);
    expect(isConnectionError(new TypeError('x is undefined'))).toBe(false);
  });

  it('treats a query runner TypeORM released after its connection died as unavailability', () => {
    // Found by test/faults: pg_terminate_backend between two queries of one transaction.
    expect(isConnectionError(new QueryRunnerAlreadyReleasedError())).toBe(true);
    expect(isConnectionError(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
    expect(isConnectionError(new TypeORMError('Query runner already released'))).toBe(false);
  });
});
