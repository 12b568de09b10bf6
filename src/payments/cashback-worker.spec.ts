import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { AppConfig } from '../config/app-config';
import { Environment } from '../config/environment';
import type { TransactionRunner } from '../database/transaction-runner';
import type { CashbackSettler } from './cashback-settler';
import { CashbackWorker } from './cashback-worker';

const INTERVAL = 100;

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A worker over fakes: `query` answers the due-accounts look-up, `lockedAccount` the lock. */
function setup(options: { lockedAccount?: object | null } = {}) {
  const query = jest.fn<Promise<{ account_id: string }[]>, unknown[]>();
  const getOne = jest.fn(() =>
    Promise.resolve(
      options.lockedAccount === undefined
        ? { accountId: 'acc-1', lastEntryAt: 0 }
        : options.lockedAccount,
    ),
  );
  interface FakeBuilder {
    setLock: jest.Mock<FakeBuilder, [string]>;
    setOnLocked: jest.Mock<FakeBuilder, [string]>;
    where: jest.Mock<FakeBuilder, unknown[]>;
    getOne: typeof getOne;
  }
  const builder: FakeBuilder = {
    setLock: jest.fn((_mode: string) => builder),
    setOnLocked: jest.fn((_mode: string) => builder),
    where: jest.fn(() => builder),
    getOne,
  };
  const manager = { createQueryBuilder: jest.fn(() => builder) } as unknown as EntityManager;
  const transactions = {
    run: jest.fn((work: (m: EntityManager) => Promise<unknown>) => work(manager)),
  } as unknown as TransactionRunner;
  const settle = jest.fn(() => Promise.resolve(2));
  const settler = { settle } as unknown as CashbackSettler;
  const env = Object.assign(new Environment(), { CASHBACK_WORKER_INTERVAL_MS: INTERVAL });
  const worker = new CashbackWorker(
    { query } as unknown as DataSource,
    transactions,
    settler,
    new Clock(),
    new AppConfig(env),
  );
  return { worker, query, settle, builder };
}

describe('CashbackWorker', () => {
  let logError: jest.SpyInstance;
  beforeEach(() => {
    jest.useFakeTimers();
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    logError.mockRestore();
  });

  it('locks each due account with FOR UPDATE SKIP LOCKED and settles it', async () => {
    const { worker, query, settle, builder } = setup();
    query.mockResolvedValueOnce([{ account_id: 'acc-1' }]);
    const run = await worker.runOnce();
    expect(builder.setLock).toHaveBeenCalledWith('pessimistic_write');
    expect(builder.setOnLocked).toHaveBeenCalledWith('skip_locked');
    expect(settle).toHaveBeenCalledTimes(1);
    expect(run).toEqual({ accounts: 1, settled: 2, skipped: 0, failed: 0 });
  });

  it('skips an account another transaction holds, without settling it', async () => {
    const { worker, query, settle } = setup({ lockedAccount: null });
    query.mockResolvedValueOnce([{ account_id: 'acc-1' }]);
    expect(await worker.runOnce()).toEqual({ accounts: 1, settled: 0, skipped: 1, failed: 0 });
    expect(settle).not.toHaveBeenCalled();
  });

  it('never overlaps runs: the next tick waits for the previous one to finish', async () => {
    const { worker, query } = setup();
    const slow = deferred<{ account_id: string }[]>();
    query.mockReturnValueOnce(slow.promise).mockResolvedValue([]);
    worker.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL * 20);
    expect(query).toHaveBeenCalledTimes(1);
    slow.resolve([]);
    await jest.advanceTimersByTimeAsync(INTERVAL * 3);
    expect(query.mock.calls.length).toBeGreaterThanOrEqual(2);
    await worker.onModuleDestroy();
  });

  it('logs a failed run and keeps ticking', async () => {
    const { worker, query } = setup();
    query.mockRejectedValueOnce(new Error('connection refused')).mockResolvedValue([]);
    worker.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL * 3);
    expect(logError).toHaveBeenCalledWith(expect.stringContaining('connection refused'));
    expect(query.mock.calls.length).toBeGreaterThanOrEqual(2);
    await worker.onModuleDestroy();
  });

  it('logs a failing account and goes on with the others', async () => {
    const { worker, query, settle } = setup();
    query.mockResolvedValueOnce([{ account_id: 'acc-1' }, { account_id: 'acc-2' }]);
    settle.mockRejectedValueOnce(new Error('boom')).mockResolvedValueOnce(3);
    expect(await worker.runOnce()).toEqual({ accounts: 2, settled: 3, skipped: 0, failed: 1 });
    expect(logError).toHaveBeenCalledWith(expect.stringContaining('acc-1'));
  });

  it('on shutdown waits for the run in progress and schedules no more', async () => {
    const { worker, query } = setup();
    const slow = deferred<{ account_id: string }[]>();
    query.mockReturnValueOnce(slow.promise).mockResolvedValue([]);
    worker.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    let stopped = false;
    const stopping = worker.onModuleDestroy().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(stopped).toBe(false);
    slow.resolve([]);
    await stopping;
    await jest.advanceTimersByTimeAsync(INTERVAL * 10);
    expect(query).toHaveBeenCalledTimes(1);
  });
});
