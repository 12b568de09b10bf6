import request from 'supertest';
import { createAccount } from '../support/factories';
import { ledgerViolations, totalBalance } from '../support/ledger-invariants';
import { createTestApp, TestApp } from '../support/test-app';

/** Runs the tasks with at most `limit` in flight. */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

describe('ledger under concurrency (exact final states)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { DB_POOL_SIZE: '20' } });
  });
  afterEach(async () => {
    expect(await ledgerViolations(t)).toEqual([]);
    const audit = await request(t.app.getHttpServer()).get('/audit').expect(200);
    expect(audit.body).toMatchObject({ ok: true, mismatches: [] });
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());

  it('100 parallel withdrawals of 10 from 500: exactly 50 succeed, balance 0', async () => {
    const a = await createAccount(t, { initialDeposit: 500 });
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        http().post('/withdrawals').send({ accountId: a.accountId, amount: 10 }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 422)).toHaveLength(50);
    expect(
      results.filter((r) => r.status === 422).every((r) => r.body.code === 'INSUFFICIENT_FUNDS'),
    ).toBe(true);
    expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(0);
    // every successful response saw a distinct balance: the withdrawals were serialized
    const after = results.filter((r) => r.status === 201).map((r) => r.body.balance as number);
    expect(new Set(after).size).toBe(50);
    expect(Math.min(...after)).toBe(0);
  });

  it('200 simultaneous opposite transfers between two accounts all succeed, none 5xx', async () => {
    const a = await createAccount(t, { initialDeposit: 10_000 });
    const b = await createAccount(t, { initialDeposit: 10_000 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        http()
          .post('/transfers')
          .send(
            i % 2 === 0
              ? { sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 7 }
              : { sourceAccountId: b.accountId, targetAccountId: a.accountId, amount: 3 },
          ),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(
      10_000 - 100 * 7 + 100 * 3,
    );
    expect((await http().get(`/accounts/${b.accountId}`)).body.balance).toBe(
      10_000 + 100 * 7 - 100 * 3,
    );
  });

  it('500 random transfers among 10 accounts at 50 in flight: no 5xx, no overdraft, money conserved', async () => {
    const accounts = await Promise.all(
      Array.from({ length: 10 }, () => createAccount(t, { initialDeposit: 1_000 })),
    );
    const ids = accounts.map((a) => a.accountId);
    const before = await totalBalance(t);
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const tasks = Array.from({ length: 500 }, () => {
      const source = ids[Math.floor(random() * ids.length)];
      let target = ids[Math.floor(random() * ids.length)];
      if (target === source) target = ids[(ids.indexOf(source) + 1) % ids.length]!;
      const amount = 1 + Math.floor(random() * 400);
      return () =>
        http()
          .post('/transfers')
          .send({ sourceAccountId: source, targetAccountId: target, amount });
    });
    const results = await inParallel(tasks, 50);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 201 || s === 422)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(100);
    expect(await totalBalance(t)).toBe(before);
    const balances = await Promise.all(ids.map((id) => http().get(`/accounts/${id}`)));
    expect(balances.every((r) => r.body.balance >= 0)).toBe(true);
    expect(balances.reduce((sum, r) => sum + (r.body.balance as number), 0)).toBe(10 * 1_000);
  });

  it('concurrent deposits and withdrawals on one account never lose an update', async () => {
    const a = await createAccount(t, { initialDeposit: 1_000 });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        http()
          .post(i % 3 === 0 ? '/withdrawals' : '/deposits')
          .send({ accountId: a.accountId, amount: 5 }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(
      1_000 + 40 * 5 - 20 * 5,
    );
  });
});
