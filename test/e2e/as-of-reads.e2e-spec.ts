import request from 'supertest';
import { createAccount } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

jest.setTimeout(120_000);

/**
 * Guarantee 6: a read as of a time T, made at or after T, gives the same answer when repeated
 * later. Movements are stamped when their batch has locked the account and become visible at
 * COMMIT a few ms later, so without care a read at T could miss a movement stamped ≤ T that
 * commits just after it. Here six writers deposit into one account on the system clock while
 * a reader asks for the balance as of "now"; once the writers stop, every one of those reads
 * is repeated and must give the same answer. (History with ?timestamp= takes the same path.)
 */
describe('reads as of a past time never change (guarantee 6, issue #15 item 7)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('gives the same balance ?at=T on re-read, for hundreds of T read while money moves', async () => {
    const http = () => request(t.app.getHttpServer());
    const { accountId } = await createAccount(t);
    let writing = true;
    let deposits = 0;
    const writer = async () => {
      while (writing) {
        await http().post('/deposits').send({ accountId, amount: 1 }).expect(201);
        deposits += 1;
      }
    };
    const writers = Array.from({ length: 6 }, writer);

    const reads: { at: number; balance: number }[] = [];
    while (reads.length < 300) {
      const at = Date.now();
      const balance = await http().get(`/accounts/${accountId}/balance?at=${at}`).expect(200);
      expect((balance.body as { at: number }).at).toBe(at);
      reads.push({ at, balance: (balance.body as { balance: number }).balance });
    }
    writing = false;
    await Promise.all(writers);
    expect(deposits).toBeGreaterThan(100);

    const changed: string[] = [];
    for (const read of reads) {
      const again = await http().get(`/accounts/${accountId}/balance?at=${read.at}`).expect(200);
      const balance = (again.body as { balance: number }).balance;
      if (balance !== read.balance) changed.push(`at ${read.at}: ${read.balance} → ${balance}`);
    }
    expect(changed).toEqual([]);
    // The balance as of T is also exactly the count of deposits stamped ≤ T.
    const [last] = reads.slice(-1);
    const [row] = await t.sql<{ n: string }>(
      `SELECT count(*)::text AS n FROM ledger_transactions WHERE account_id = $1 AND timestamp <= $2`,
      [accountId, last.at],
    );
    expect(Number(row.n)).toBe(last.balance);
  });
});
