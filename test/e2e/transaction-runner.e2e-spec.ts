import request from 'supertest';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { TransactionRunner, XACT_ID_SQL } from '../../src/database/transaction-runner';
import { AccountsRepository } from '../../src/ledger/repositories/accounts.repository';
import { LogCapture } from '../support/log-capture';
import { createTestApp, TestApp } from '../support/test-app';

class SerializationFailure extends Error {
  readonly code = '40001';
}

describe('TransactionRunner on real PostgreSQL', () => {
  let t: TestApp;
  let runner: TransactionRunner;
  // The lost-COMMIT cases log a warning each: captured and asserted, not printed.
  const logs = new LogCapture();
  beforeAll(async () => {
    t = await createTestApp({ logs: logs.stream });
    runner = TransactionRunner.withRetryPolicy(t.app.get(DataSource), {
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 5,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const insertAccount = (manager: EntityManager, id: string) =>
    manager.query(`INSERT INTO accounts (account_id, created_at) VALUES ($1, 1)`, [id]);
  const exists = async (id: string) =>
    (await t.sql(`SELECT 1 FROM accounts WHERE account_id = $1`, [id])).length === 1;

  it('commits the unit of work', async () => {
    await runner.run((m) => insertAccount(m, 'tr-commit'));
    expect(await exists('tr-commit')).toBe(true);
  });

  it('rolls back everything and re-throws the original error', async () => {
    const boom = new Error('business rule');
    await expect(
      runner.run(async (m) => {
        await insertAccount(m, 'tr-rollback');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await exists('tr-rollback')).toBe(false);
  });

  it('retries the whole unit on 40001 in a fresh transaction, effects applied once', async () => {
    let attempts = 0;
    const retried: string[] = [];
    runner.onRetry((state) => retried.push(state));
    await runner.run(async (m) => {
      attempts += 1;
      await insertAccount(m, 'tr-retry');
      if (attempts < 3) throw new SerializationFailure('could not serialize');
    });
    expect(attempts).toBe(3);
    expect(retried).toEqual(['40001', '40001']);
    expect(
      await t.sql(`SELECT account_id FROM accounts WHERE account_id = 'tr-retry'`),
    ).toHaveLength(1);
  });

  it('re-throws the last retryable error when attempts run out', async () => {
    const errors: Error[] = [];
    const thrown = await runner
      .run(async (m) => {
        await insertAccount(m, 'tr-exhausted');
        const error = new SerializationFailure(`attempt ${errors.length + 1}`);
        errors.push(error);
        throw error;
      })
      .catch((error: unknown) => error);
    expect(thrown).toBe(errors[2]);
    expect(errors).toHaveLength(3);
    expect(await exists('tr-exhausted')).toBe(false);
  });

  it('recovers from a real deadlock (40P01) by retrying the victim; both units commit', async () => {
    await t.sql(`INSERT INTO accounts (account_id, created_at) VALUES ('dl-a', 1), ('dl-b', 1)`);
    // Its own runner, so the retries counted are this test's only.
    const deadlockRunner = TransactionRunner.withRetryPolicy(t.app.get(DataSource), {
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 5,
    });
    const retried: string[] = [];
    deadlockRunner.onRetry((state) => retried.push(state));
    // Both first attempts take their first lock before either asks for its second: a real
    // deadlock, which PostgreSQL breaks by failing one of them with 40P01. A retried attempt
    // finds the barrier already open.
    let bothHoldOne!: () => void;
    const barrier = new Promise<void>((resolve) => (bothHoldOne = resolve));
    let holders = 0;
    const attempts: string[] = [];
    const lockInOrder = (first: string, second: string) =>
      deadlockRunner.run(async (m) => {
        attempts.push(first);
        await m.query(`SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE`, [first]);
        holders += 1;
        if (holders === 2) bothHoldOne();
        await barrier;
        await m.query(`UPDATE accounts SET balance = balance + 1 WHERE account_id = $1`, [second]);
        return first;
      });
    const committed = await Promise.all([lockInOrder('dl-a', 'dl-b'), lockInOrder('dl-b', 'dl-a')]);
    expect(committed).toEqual(['dl-a', 'dl-b']);
    expect(retried).toEqual(['40P01']);
    expect(attempts).toHaveLength(3);
    const rows = await t.sql<{ balance: string }>(
      `SELECT balance FROM accounts WHERE account_id IN ('dl-a', 'dl-b') ORDER BY account_id`,
    );
    expect(rows).toEqual([{ balance: '1' }, { balance: '1' }]);
  });

  it('runs afterCommit callbacks once, after the outermost commit, never for rolled-back work', async () => {
    const seen: string[] = [];
    let attempts = 0;
    await runner.run(async (m) => {
      attempts += 1;
      runner.afterCommit(() => seen.push(`attempt ${attempts}`));
      await runner.run((inner) => {
        runner.afterCommit(() => seen.push(`nested in attempt ${attempts}`));
        return inner.query('SELECT 1');
      });
      await insertAccount(m, `tr-after-${attempts}`);
      expect(seen).toEqual([]);
      if (attempts < 2) throw new SerializationFailure('retry me');
    });
    expect(seen).toEqual(['attempt 2', 'nested in attempt 2']);

    await expect(
      runner.run(async (m) => {
        runner.afterCommit(() => seen.push('rolled back'));
        await m.query('SELECT 1');
        throw new Error('business rule');
      }),
    ).rejects.toThrow('business rule');
    expect(seen).toEqual(['attempt 2', 'nested in attempt 2']);

    runner.afterCommit(() => seen.push('outside a unit'));
    expect(seen).toEqual(['attempt 2', 'nested in attempt 2', 'outside a unit']);
  });

  it('joins an outer unit of work instead of nesting a transaction', async () => {
    await expect(
      runner.run(async (outer) => {
        await runner.run((inner) => {
          expect(inner).toBe(outer);
          return insertAccount(inner, 'tr-joined');
        });
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await exists('tr-joined')).toBe(false);
  });

  it('AccountsRepository locks rows FOR UPDATE in id order and returns only existing rows', async () => {
    await t.sql(`INSERT INTO accounts (account_id, created_at) VALUES ('lk-2', 1), ('lk-1', 1)`);
    const accounts = t.app.get(AccountsRepository);
    const { rows, locks } = await runner.run(async (m) => {
      const locked = await accounts.lockForUpdate(m, ['lk-2', 'missing', 'lk-1', 'lk-2']);
      const rowLocks = await m.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM accounts
          WHERE account_id IN ('lk-1', 'lk-2') AND xmax::text::bigint = (txid_current() % 4294967296)`,
      );
      return { rows: locked.accounts, locks: { rowLocks: rowLocks[0].n } };
    });
    expect(rows.map((r) => r.accountId)).toEqual(['lk-1', 'lk-2']);
    // FOR UPDATE marks each locked row with the locking transaction's id (xmax).
    expect(locks.rowLocks).toBe(2);
  });

  describe('when the connection dies while COMMIT is in flight', () => {
    const lostReply = () =>
      new QueryFailedError('COMMIT', [], new Error('Connection terminated unexpectedly'));

    /** A runner whose COMMIT does `outcome` (really commit, or really roll back), then fails as if the reply were lost. */
    function runnerLosingCommitReply(outcome: 'COMMIT' | 'ROLLBACK'): TransactionRunner {
      const dataSource = t.app.get(DataSource);
      const flaky = Object.create(dataSource) as DataSource;
      flaky.createQueryRunner = () => {
        const queryRunner = dataSource.createQueryRunner();
        queryRunner.commitTransaction = async () => {
          await queryRunner.query(outcome);
          throw lostReply();
        };
        return queryRunner;
      };
      return TransactionRunner.withRetryPolicy(flaky, {
        maxAttempts: 3,
        baseDelayMs: 1,
        maxDelayMs: 5,
      });
    }

    const balance = async (id: string) =>
      Number((await t.sql(`SELECT balance FROM accounts WHERE account_id = $1`, [id]))[0].balance);

    it('answers success when PostgreSQL reports the transaction committed', async () => {
      await t.sql(`INSERT INTO accounts (account_id, created_at) VALUES ('lost-ok', 1)`);
      const flaky = runnerLosingCommitReply('COMMIT');
      const committed: string[] = [];
      const result = await flaky.run(async (m) => {
        await t.app
          .get(AccountsRepository)
          .lockForUpdate(m, ['lost-ok'])
          .then((l) => flaky.noteTransactionId(l.xactId));
        await m.query(`UPDATE accounts SET balance = 5 WHERE account_id = 'lost-ok'`);
        flaky.afterCommit(() => committed.push('lost-ok'));
        return 'done';
      });
      expect(result).toBe('done');
      expect(committed).toEqual(['lost-ok']);
      expect(await balance('lost-ok')).toBe(5);
      await logs.waitFor(
        (l) => l.level === 'warn' && /failed .*PostgreSQL reports it committed/.test(String(l.msg)),
      );
    });

    it('keeps the connection error when PostgreSQL reports it rolled back', async () => {
      await t.sql(`INSERT INTO accounts (account_id, created_at) VALUES ('lost-rb', 1)`);
      const flaky = runnerLosingCommitReply('ROLLBACK');
      const committed: string[] = [];
      await expect(
        flaky.run(async (m) => {
          await t.app
            .get(AccountsRepository)
            .lockForUpdate(m, ['lost-rb'])
            .then((l) => flaky.noteTransactionId(l.xactId));
          await m.query(`UPDATE accounts SET balance = 5 WHERE account_id = 'lost-rb'`);
          flaky.afterCommit(() => committed.push('lost-rb'));
        }),
      ).rejects.toThrow('Connection terminated unexpectedly');
      expect(committed).toEqual([]);
      expect(await balance('lost-rb')).toBe(0);
      await logs.waitFor(
        (l) => l.level === 'warn' && /failed .*PostgreSQL reports it aborted/.test(String(l.msg)),
      );
    });

    it('keeps the connection error when the unit never noted its transaction id', async () => {
      const flaky = runnerLosingCommitReply('COMMIT');
      await expect(flaky.run((m) => insertAccount(m, 'lost-unknown'))).rejects.toThrow(
        'Connection terminated unexpectedly',
      );
    });

    it('notes the id from any statement that selects it', async () => {
      const flaky = runnerLosingCommitReply('COMMIT');
      await flaky.run(async (m) => {
        const [row] = await m.query<{ xact_id: string }[]>(
          `INSERT INTO accounts (account_id, created_at) VALUES ('lost-noted', 1) RETURNING ${XACT_ID_SQL} AS xact_id`,
        );
        flaky.noteTransactionId(row.xact_id);
      });
      expect(await exists('lost-noted')).toBe(true);
    });

    it('every write path of the API notes its transaction id', async () => {
      const appRunner = t.app.get(TransactionRunner);
      const noted = jest.spyOn(appRunner, 'noteTransactionId');
      const http = () => request(t.app.getHttpServer());
      const posts: [string, object][] = [
        ['/accounts', { accountId: 'xid-a' }],
        ['/accounts', { accountId: 'xid-b', initialDeposit: 1000 }],
        ['/deposits', { accountId: 'xid-a', amount: 500 }],
        ['/withdrawals', { accountId: 'xid-a', amount: 100 }],
        ['/transfers', { sourceAccountId: 'xid-b', targetAccountId: 'xid-a', amount: 100 }],
        ['/payments', { accountId: 'xid-a', amount: 100 }],
      ];
      try {
        for (const [path, body] of posts) {
          noted.mockClear();
          await http().post(path).send(body).expect(201);
          const ids = noted.mock.calls.map(([id]) => id);
          expect({
            path,
            noted: ids.length > 0 && ids.every((id) => /^\d+$/.test(String(id))),
          }).toEqual({
            path,
            noted: true,
          });
        }
      } finally {
        noted.mockRestore();
      }
    });
  });
});
