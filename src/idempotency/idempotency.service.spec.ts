import { EntityManager } from 'typeorm';
import { DomainException } from '../common/errors/domain.exception';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { TransactionRunner } from '../database/transaction-runner';
import { IdempotencyService } from './idempotency.service';
import { IdempotencyStore, StoredKey } from './idempotency.store';

const NOW = 1_763_700_000_000;
const request = { key: 'k-1', fingerprint: 'f-1' };

function setup() {
  const queries: string[] = [];
  const manager = {
    query: jest.fn((sql: string) => {
      queries.push(sql);
      return Promise.resolve([]);
    }),
  } as unknown as EntityManager;
  // Each run is one "transaction" on the fake manager; no retries here.
  const transactions = {
    run: jest.fn(<T>(work: (m: EntityManager) => Promise<T>) => work(manager)),
  } as unknown as TransactionRunner;
  const store = {
    lockAndFind: jest.fn(() =>
      Promise.resolve<{ locked: boolean; stored?: StoredKey }>({ locked: true }),
    ),
    find: jest.fn(() => Promise.resolve<StoredKey | undefined>(undefined)),
    insert: jest.fn(() => Promise.resolve(true)),
  };
  const clock = { now: () => NOW };
  const config = new AppConfig(validateEnvironment({ IDEMPOTENCY_TTL_MS: '90000000' }));
  const service = new IdempotencyService(
    transactions,
    store as unknown as IdempotencyStore,
    clock,
    config,
  );
  return { service, store, queries };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof DomainException
      ? error.code
      : `not a DomainException: ${String(error)}`;
  }
  return 'resolved';
}

describe('IdempotencyService', () => {
  it('runs the handler once and stores its serialized result with the TTL', async () => {
    const { service, store } = setup();
    const handle = jest.fn(() => Promise.resolve({ b: 1, a: 'x' }));
    const response = await service.execute(request, 201, handle);
    expect(response).toEqual({ statusCode: 201, body: '{"b":1,"a":"x"}', replayed: false });
    expect(handle).toHaveBeenCalledTimes(1);
    expect(store.insert).toHaveBeenCalledWith(
      expect.anything(),
      'k-1',
      { statusCode: 201, body: '{"b":1,"a":"x"}', fingerprint: 'f-1' },
      NOW,
      NOW + 90_000_000,
    );
  });

  it('replays a stored response without running the handler', async () => {
    const { service, store } = setup();
    store.lockAndFind.mockResolvedValue({
      locked: false,
      stored: { fingerprint: 'f-1', statusCode: 422, body: '{"code":"X"}' },
    });
    const handle = jest.fn();
    expect(await service.execute(request, 201, handle)).toEqual({
      statusCode: 422,
      body: '{"code":"X"}',
      replayed: true,
    });
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a stored key with another fingerprint', async () => {
    const { service, store } = setup();
    store.lockAndFind.mockResolvedValue({
      locked: true,
      stored: { fingerprint: 'other', statusCode: 201, body: '{}' },
    });
    expect(await codeOf(service.execute(request, 201, jest.fn()))).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('answers IN_PROGRESS when the key is locked and nothing is stored', async () => {
    const { service, store } = setup();
    store.lockAndFind.mockResolvedValue({ locked: false });
    const handle = jest.fn();
    expect(await codeOf(service.execute(request, 201, handle))).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
    expect(handle).not.toHaveBeenCalled();
  });

  it('stores a 4xx problem after rolling back to the savepoint', async () => {
    const { service, store, queries } = setup();
    const handle = () => Promise.reject(new DomainException('INSUFFICIENT_FUNDS', 'no'));
    const response = await service.execute(request, 201, handle);
    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'INSUFFICIENT_FUNDS', detail: 'no' });
    expect(queries).toEqual([
      'SAVEPOINT idempotent_handler',
      'ROLLBACK TO SAVEPOINT idempotent_handler',
    ]);
    expect(store.insert).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['an unknown error', new Error('boom')],
    ['a retryable error', Object.assign(new Error('deadlock'), { code: '40P01' })],
    ['a 503', Object.assign(new Error('down'), { code: 'ECONNREFUSED' })],
  ])('never stores %s: it propagates as it is', async (_name, error) => {
    const { service, store } = setup();
    await expect(service.execute(request, 201, () => Promise.reject(error))).rejects.toBe(error);
    expect(store.insert).not.toHaveBeenCalled();
  });

  describe('when another request stored the key first (insert lost)', () => {
    it('replays the winner', async () => {
      const { service, store } = setup();
      store.insert.mockResolvedValue(false);
      store.find.mockResolvedValue({ fingerprint: 'f-1', statusCode: 201, body: '{"w":1}' });
      expect(await service.execute(request, 201, () => Promise.resolve({}))).toEqual({
        statusCode: 201,
        body: '{"w":1}',
        replayed: true,
      });
    });

    it('refuses with REUSED when the winner had another body', async () => {
      const { service, store } = setup();
      store.insert.mockResolvedValue(false);
      store.find.mockResolvedValue({ fingerprint: 'other', statusCode: 201, body: '{}' });
      expect(await codeOf(service.execute(request, 201, () => Promise.resolve({})))).toBe(
        'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('answers IN_PROGRESS when the winner is no longer visible', async () => {
      const { service, store } = setup();
      store.insert.mockResolvedValue(false);
      expect(await codeOf(service.execute(request, 201, () => Promise.resolve({})))).toBe(
        'IDEMPOTENCY_KEY_IN_PROGRESS',
      );
    });
  });
});
