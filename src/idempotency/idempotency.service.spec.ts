import { EntityManager } from 'typeorm';
import { DomainException } from '../common/errors/domain.exception';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { TransactionRunner } from '../database/transaction-runner';
import { IdempotencyService } from './idempotency.service';
import { IdempotencyRepository, StoredKey } from './idempotency.repository';

const NOW = 1_763_700_000_000;
const scope = { key: 'k-1', fingerprint: 'f-1', successStatus: 201 };
const invalid = new DomainException('VALIDATION_FAILED', 'amount: is required', [
  { field: 'amount', message: 'is required' },
]);

function setup() {
  const manager = {} as EntityManager;
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
    store as unknown as IdempotencyRepository,
    clock,
    config,
  );
  return { service, store };
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

describe('IdempotencyService.answerFailure (a keyed request that failed before its key was stored)', () => {
  it('stores the 4xx problem with the TTL and answers it', async () => {
    const { service, store } = setup();
    const answer = await service.answerFailure(scope, invalid);
    expect(answer.statusCode).toBe(400);
    expect(answer.replayed).toBe(false);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(store.insert).toHaveBeenCalledWith(
      expect.anything(),
      'k-1',
      { statusCode: 400, body: answer.body, fingerprint: 'f-1' },
      NOW,
      NOW + 90_000_000,
    );
  });

  it('replays a stored response instead of storing another', async () => {
    const { service, store } = setup();
    store.lockAndFind.mockResolvedValue({
      locked: false,
      stored: { fingerprint: 'f-1', statusCode: 422, body: '{"code":"X"}' },
    });
    expect(await service.answerFailure(scope, invalid)).toEqual({
      statusCode: 422,
      body: '{"code":"X"}',
      replayed: true,
    });
    expect(store.insert).not.toHaveBeenCalled();
  });

  it('refuses a stored key with another fingerprint', async () => {
    const { service, store } = setup();
    store.lockAndFind.mockResolvedValue({
      locked: true,
      stored: { fingerprint: 'other', statusCode: 201, body: '{}' },
    });
    expect(await codeOf(service.answerFailure(scope, invalid))).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('answers IN_PROGRESS when another transaction holds the key', async () => {
    const { service, store } = setup();
    store.lockAndFind.mockResolvedValue({ locked: false });
    expect(await codeOf(service.answerFailure(scope, invalid))).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
    expect(store.insert).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown error', new Error('boom')],
    ['a retryable error', Object.assign(new Error('deadlock'), { code: '40P01' })],
    ['a 503', Object.assign(new Error('down'), { code: 'ECONNREFUSED' })],
  ])('never stores %s: it propagates as it is', async (_name, error) => {
    const { service, store } = setup();
    await expect(service.answerFailure(scope, error)).rejects.toBe(error);
    expect(store.lockAndFind).not.toHaveBeenCalled();
    expect(store.insert).not.toHaveBeenCalled();
  });

  describe('when another request stored the key first (insert lost)', () => {
    it('replays the winner', async () => {
      const { service, store } = setup();
      store.insert.mockResolvedValue(false);
      store.find.mockResolvedValue({ fingerprint: 'f-1', statusCode: 201, body: '{"w":1}' });
      expect(await service.answerFailure(scope, invalid)).toEqual({
        statusCode: 201,
        body: '{"w":1}',
        replayed: true,
      });
    });

    it('refuses with REUSED when the winner had another body', async () => {
      const { service, store } = setup();
      store.insert.mockResolvedValue(false);
      store.find.mockResolvedValue({ fingerprint: 'other', statusCode: 201, body: '{}' });
      expect(await codeOf(service.answerFailure(scope, invalid))).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('answers IN_PROGRESS when the winner is no longer visible', async () => {
      const { service, store } = setup();
      store.insert.mockResolvedValue(false);
      expect(await codeOf(service.answerFailure(scope, invalid))).toBe(
        'IDEMPOTENCY_KEY_IN_PROGRESS',
      );
    });
  });
});
