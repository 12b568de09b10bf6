import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock/clock';
import {
  STATEMENT_APPLICATION_NAME,
  StatementSnapshot,
} from '../../src/statements/statements.repository';

const balanceBefore = StatementSnapshot.prototype.balanceBefore;
const totalsOf = StatementSnapshot.prototype.totals;
import { createAccount } from '../support/factories';
import { waitFor } from '../../scripts/lib/wait';
import { createTestApp, TestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;
const CSV_HEADER =
  'entryId,transactionId,timestamp,type,amount,balanceAfter,counterpartyAccountId,paymentId,reversedTransactionId';

/** A clock tests set by hand; with `step` > 0 every reading moves it on (distinct timestamps). */
class TestClock extends Clock {
  step = 0;
  constructor(public current: number) {
    super();
  }
  override now(): number {
    this.current += this.step;
    return this.current;
  }
}

interface Entry {
  entryId: string;
  transactionId: string;
  accountId: string;
  type: string;
  amount: number;
  balanceAfter: number;
  timestamp: number;
  counterpartyAccountId: string | null;
  paymentId: string | null;
  reversedTransactionId: string | null;
}
interface Summary {
  accountId: string;
  currency: string;
  from: number;
  to: number;
  openingBalance: number;
  closingBalance: number;
  totalCredits: number;
  totalDebits: number;
  entryCount: number;
}
type Statement = Summary & { entries: Entry[] };

/** Buffers any body as text (supertest leaves unknown media types such as ndjson unread). */
function asText(res: request.Response, callback: (error: Error | null, body: string) => void) {
  const stream = res as unknown as IncomingMessage;
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (body += chunk));
  stream.on('end', () => callback(null, body));
}

function parseNdjson(text: string): { summary: Summary; entries: Entry[] } {
  expect(text.endsWith('\n')).toBe(true);
  const [first, ...rest] = text.slice(0, -1).split('\n');
  return {
    summary: JSON.parse(first) as Summary,
    entries: rest.map((l) => JSON.parse(l) as Entry),
  };
}

/** closing = opening + Σ amounts, totals and count agree, and the balanceAfter chain holds. */
function expectConsistent(summary: Summary, entries: Pick<Entry, 'amount' | 'balanceAfter'>[]) {
  let balance = summary.openingBalance;
  let credits = 0;
  let debits = 0;
  const brokenChain: number[] = [];
  for (const [i, e] of entries.entries()) {
    balance += e.amount;
    if (e.amount > 0) credits += e.amount;
    else debits -= e.amount;
    if (e.balanceAfter !== balance) brokenChain.push(i);
  }
  expect({
    closing: summary.closingBalance,
    credits: summary.totalCredits,
    debits: summary.totalDebits,
    count: summary.entryCount,
    brokenChain,
  }).toEqual({ closing: balance, credits, debits, count: entries.length, brokenChain: [] });
}

describe('GET /accounts/{accountId}/statement', () => {
  let t: TestApp;
  const T0 = 1_763_800_000_000;
  const clock = new TestClock(T0);
  beforeAll(async () => {
    t = await createTestApp({ clock });
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());
  const statement = (path: string) => http().get(path).buffer(true).parse(asText);

  /**
   * alice: created at T0 with 1000 (DEPOSIT), T0+10 withdraws 300, T0+20 sends 200 to bob,
   * T0+30 receives a deposit of 50. The clock then stands at T0+40.
   */
  async function history() {
    clock.step = 0;
    clock.current = T0;
    const alice = await createAccount(t, { initialDeposit: 1000 });
    const bob = await createAccount(t);
    clock.current = T0 + 10;
    await http().post('/withdrawals').send({ accountId: alice.accountId, amount: 300 }).expect(201);
    clock.current = T0 + 20;
    const transfer = await http()
      .post('/transfers')
      .send({ sourceAccountId: alice.accountId, targetAccountId: bob.accountId, amount: 200 })
      .expect(201);
    clock.current = T0 + 30;
    await http().post('/deposits').send({ accountId: alice.accountId, amount: 50 }).expect(201);
    clock.current = T0 + 40;
    return {
      alice: alice.accountId,
      bob: bob.accountId,
      transferId: (transfer.body as { transactionId: string }).transactionId,
    };
  }

  describe('formats', () => {
    let ids: Awaited<ReturnType<typeof history>>;
    let entries: Entry[];
    /** alice's statement but its entries: the same in every format. */
    const aliceSummary = (): Summary => ({
      accountId: ids.alice,
      currency: 'USD',
      from: T0,
      to: T0 + 40,
      openingBalance: 0,
      closingBalance: 550,
      totalCredits: 1050,
      totalDebits: 500,
      entryCount: 4,
    });
    beforeAll(async () => {
      ids = await history();
      const res = await http().get(`/accounts/${ids.alice}/statement`).expect(200);
      entries = (res.body as Statement).entries;
    });

    it('json (the default): the whole range with balances, totals and every LedgerEntry field', async () => {
      const res = await http().get(`/accounts/${ids.alice}/statement`).expect(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['vary']).toMatch(/Accept/i);
      expect(res.headers['content-disposition']).toBeUndefined();
      const body = res.body as Statement;
      expect(body).toEqual({
        ...aliceSummary(),
        entries: [
          { type: 'DEPOSIT', amount: 1000, balanceAfter: 1000, timestamp: T0 },
          { type: 'WITHDRAWAL', amount: -300, balanceAfter: 700, timestamp: T0 + 10 },
          { type: 'TRANSFER_OUT', amount: -200, balanceAfter: 500, timestamp: T0 + 20 },
          { type: 'DEPOSIT', amount: 50, balanceAfter: 550, timestamp: T0 + 30 },
        ].map((e) => ({
          entryId: expect.stringMatching(/^\d+$/),
          transactionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          accountId: ids.alice,
          counterpartyAccountId: e.type === 'TRANSFER_OUT' ? ids.bob : null,
          paymentId: null,
          reversedTransactionId: null,
          ...e,
        })),
      });
      expect(body.entries[2].transactionId).toBe(ids.transferId);
      // The same entries, in the same order, as the paginated history shows them.
      const historyPage = await http()
        .get(`/accounts/${ids.alice}/transactions?limit=10`)
        .expect(200);
      expect(body.entries.map((e) => e.entryId)).toEqual(
        (historyPage.body as { data: Entry[] }).data.map((e) => e.entryId),
      );
    });

    it('csv: a header row and one row per entry, served as an attachment', async () => {
      const res = await statement(`/accounts/${ids.alice}/statement?format=csv`).expect(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="statement-${ids.alice}-${T0}-${T0 + 40}.csv"`,
      );
      const lines = (res.body as string).split('\r\n');
      expect(lines).toEqual([
        CSV_HEADER,
        ...entries.map((e) =>
          [
            e.entryId,
            e.transactionId,
            e.timestamp,
            e.type,
            e.amount,
            e.balanceAfter,
            e.counterpartyAccountId ?? '',
            '',
            '',
          ].join(','),
        ),
        '',
      ]);
      // a negative amount is a number, not text: no formula guard in front of it
      expect(lines[2]).toContain(',WITHDRAWAL,-300,700,');
    });

    it('ndjson: a first line with the JSON fields but entries, then one entry per line', async () => {
      const res = await statement(`/accounts/${ids.alice}/statement?format=ndjson`).expect(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      const { summary, entries: lines } = parseNdjson(res.body as string);
      expect(summary).toEqual(aliceSummary());
      expect(lines).toEqual(entries);
    });

    it('without format, Accept chooses (q-values honoured); format beats Accept', async () => {
      const url = `/accounts/${ids.alice}/statement`;
      const typeFor = async (accept: string | undefined, query = '') => {
        const req = statement(url + query);
        if (accept !== undefined) req.set('Accept', accept);
        const res = await req.expect(200);
        return res.headers['content-type'].split(';')[0];
      };
      expect(await typeFor('text/csv')).toBe('text/csv');
      expect(await typeFor('application/x-ndjson')).toBe('application/x-ndjson');
      expect(await typeFor('application/json')).toBe('application/json');
      expect(await typeFor('*/*')).toBe('application/json');
      expect(await typeFor('text/html')).toBe('application/json');
      expect(await typeFor('text/csv;q=0.5, application/x-ndjson')).toBe('application/x-ndjson');
      expect(await typeFor('text/csv;q=0.5, application/json;q=0.9')).toBe('application/json');
      expect(await typeFor('text/csv', '?format=json')).toBe('application/json');
      expect(await typeFor('application/json', '?format=csv')).toBe('text/csv');
    });
  });

  describe('range', () => {
    it('from is inclusive, to exclusive; the opening balance comes from earlier entries', async () => {
      const { alice } = await history();
      const res = await http()
        .get(`/accounts/${alice}/statement?from=${T0 + 10}&to=${T0 + 30}`)
        .expect(200);
      const body = res.body as Statement;
      expect(body).toMatchObject({
        from: T0 + 10,
        to: T0 + 30,
        openingBalance: 1000,
        closingBalance: 500,
        totalCredits: 0,
        totalDebits: 500,
        entryCount: 2,
      });
      expect(body.entries.map((e) => [e.timestamp, e.type])).toEqual([
        [T0 + 10, 'WITHDRAWAL'],
        [T0 + 20, 'TRANSFER_OUT'],
      ]);
      // the same range as ndjson and csv
      const nd = await statement(
        `/accounts/${alice}/statement?from=${T0 + 10}&to=${T0 + 30}&format=ndjson`,
      ).expect(200);
      const parsed = parseNdjson(nd.body as string);
      expect(parsed.summary).toEqual({ ...body, entries: undefined });
      expect(parsed.entries).toEqual(body.entries);
      const csv = await statement(
        `/accounts/${alice}/statement?from=${T0 + 10}&to=${T0 + 30}&format=csv`,
      ).expect(200);
      expect((csv.body as string).split('\r\n').length).toBe(1 + 2 + 1);
    });

    it('an empty range: closing = opening, no entries; from = to is allowed', async () => {
      const { alice } = await history();
      for (const [from, to] of [
        [T0 + 21, T0 + 30],
        [T0 + 20, T0 + 20],
      ]) {
        const res = await http()
          .get(`/accounts/${alice}/statement?from=${from}&to=${to}`)
          .expect(200);
        expect(res.body).toEqual({
          accountId: alice,
          currency: 'USD',
          from,
          to,
          openingBalance: from === T0 + 21 ? 500 : 700,
          closingBalance: from === T0 + 21 ? 500 : 700,
          totalCredits: 0,
          totalDebits: 0,
          entryCount: 0,
          entries: [],
        });
        const csv = await statement(
          `/accounts/${alice}/statement?from=${from}&to=${to}&format=csv`,
        ).expect(200);
        expect(csv.body).toBe(`${CSV_HEADER}\r\n`);
      }
    });

    it("a to later than now is cut to the request's time; entries stamped now are excluded", async () => {
      const { alice } = await history();
      clock.current = T0 + 30; // the last deposit is stamped T0+30 = now
      const res = await http()
        .get(`/accounts/${alice}/statement?to=${T0 + 10_000}`)
        .expect(200);
      expect(res.body).toMatchObject({ from: T0, to: T0 + 30, closingBalance: 500, entryCount: 3 });
      clock.current = T0 + 40;
    });

    it('400 VALIDATION_FAILED for from > to and for bad values, 404 for an unknown account', async () => {
      const { alice } = await history();
      const bad = [
        `from=${T0 + 20}&to=${T0 + 10}`,
        `from=${T0 + 41}`, // after the request's time, the default to
        `to=${T0 - 1}`, // before the account's createdAt, the default from
        'from=-1',
        'to=1.5',
        'from=1e3',
        'format=xml',
        'format=CSV',
        'format=',
        'limit=5',
      ];
      for (const query of bad) {
        const res = await http().get(`/accounts/${alice}/statement?${query}`);
        expect({ query, status: res.status, type: res.headers['content-type'] }).toEqual({
          query,
          status: 400,
          type: expect.stringMatching(PROBLEM),
        });
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      const reversed = await http().get(`/accounts/${alice}/statement?from=${T0 + 20}&to=${T0}`);
      expect(reversed.body.errors).toEqual([
        { field: 'from', message: `from (${T0 + 20}) is later than to (${T0})` },
      ]);
      const missing = await http().get('/accounts/nobody-here/statement?format=csv').expect(404);
      expect(missing.headers['content-type']).toMatch(PROBLEM);
      expect(missing.body).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
      await http().get('/accounts/!bad/statement').expect(400);
    });
  });

  describe('csv quoting', () => {
    it('quotes separators, quotes and line breaks, and keeps text from becoming a formula', async () => {
      clock.step = 0;
      clock.current = T0;
      const { accountId } = await createAccount(t);
      // Payment references are free text in the ledger table: write hostile ones directly.
      const refs = [
        '=HYPERLINK("http://evil.example","click"),1',
        '+1+2',
        '-3+4',
        '@SUM(A1:A2)',
        'line\nbreak; "quoted"',
        '\ttab',
        'plain',
      ];
      for (const [i, ref] of refs.entries()) {
        await t.sql(
          `INSERT INTO ledger_transactions
             (movement_id, account_id, timestamp, operation, amount, balance_after, payment_ref)
           VALUES (gen_random_uuid(), $1, $2, 'DEPOSIT', 10, $3, $4)`,
          [accountId, T0 + 1 + i, 10 * (i + 1), ref],
        );
      }
      clock.current = T0 + 100;
      const res = await statement(`/accounts/${accountId}/statement?format=csv`).expect(200);
      const fields = (res.body as string)
        .split('\r\n')
        .slice(1, -1)
        .map((line) => line.slice(line.indexOf(',DEPOSIT,10,') + ',DEPOSIT,10,'.length));
      expect(fields).toEqual([
        `10,,"'=HYPERLINK(""http://evil.example"",""click""),1",`,
        `20,,'+1+2,`,
        `30,,'-3+4,`,
        `40,,'@SUM(A1:A2),`,
        `50,,"line\nbreak; ""quoted""",`,
        `60,,'\ttab,`,
        `70,,plain,`,
      ]);
      // JSON and ndjson carry the value as it is
      const json = await http().get(`/accounts/${accountId}/statement`).expect(200);
      expect((json.body as Statement).entries.map((e) => e.paymentId)).toEqual(refs);
    });
  });

  describe('one snapshot while money moves', () => {
    /**
     * Commits an entry inside the range right after the statement has read its head (both
     * balances, or for ndjson the totals) and before it reads the entries. One snapshot means
     * the statement does not see it; a later statement does.
     */
    it.each(['json', 'ndjson'] as const)(
      '%s: a commit between the head and the entries is not seen (one snapshot)',
      async (format) => {
        clock.step = 0;
        clock.current = T0;
        const { accountId } = await createAccount(t, { initialDeposit: 100 });
        clock.current = T0 + 10;
        await http().post('/deposits').send({ accountId, amount: 20 }).expect(201);
        clock.current = T0 + 100;
        const sneakIn = () =>
          t.sql(
            `INSERT INTO ledger_transactions
               (movement_id, account_id, timestamp, operation, amount, balance_after)
             VALUES (gen_random_uuid(), $1, $2, 'DEPOSIT', 5, 125)`,
            [accountId, T0 + 50],
          );
        let probes = 0;
        const spies =
          format === 'json'
            ? [
                jest
                  .spyOn(StatementSnapshot.prototype, 'balanceBefore')
                  .mockImplementation(async function (this: StatementSnapshot, ...args) {
                    const balance = await balanceBefore.apply(this, args);
                    if (++probes === 2) await sneakIn(); // after the closing balance
                    return balance;
                  }),
              ]
            : [
                jest
                  .spyOn(StatementSnapshot.prototype, 'totals')
                  .mockImplementation(async function (this: StatementSnapshot, ...args) {
                    const totals = await totalsOf.apply(this, args);
                    await sneakIn();
                    return totals;
                  }),
              ];
        let summary: Summary;
        let entries: Entry[];
        try {
          const res = await statement(`/accounts/${accountId}/statement?format=${format}`).expect(
            200,
          );
          if (format === 'json') {
            const body = JSON.parse(res.body as string) as Statement;
            ({ entries } = body);
            summary = body;
          } else {
            ({ summary, entries } = parseNdjson(res.body as string));
          }
        } finally {
          spies.forEach((spy) => spy.mockRestore());
        }
        expect(summary).toMatchObject({ openingBalance: 0, closingBalance: 120, entryCount: 2 });
        expect(entries.map((e) => e.amount)).toEqual([100, 20]);
        expectConsistent(summary, entries);
        const after = await http().get(`/accounts/${accountId}/statement`).expect(200);
        expect(after.body).toMatchObject({ closingBalance: 125, entryCount: 3 });
      },
    );

    it('every statement read during 200 parallel deposits has closing = opening + Σ', async () => {
      clock.step = 0;
      clock.current = T0;
      const { accountId } = await createAccount(t, { initialDeposit: 5 });
      clock.current = T0 + 1000;
      await http().post('/deposits').send({ accountId, amount: 7 }).expect(201);
      clock.step = 1; // from here every reading of the clock is a new millisecond
      let depositsDone = false;
      const deposits = Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          http()
            .post('/deposits')
            .send({ accountId, amount: i + 1 })
            .expect(201),
        ),
      ).finally(() => (depositsDone = true));
      const counts: number[] = [];
      const formats = ['json', 'ndjson', 'csv'] as const;
      for (let i = 0; !depositsDone || i < 3; i++) {
        const format = formats[i % 3];
        // from T0+1000: the opening balance (5) comes from the entry before the range
        const res = await statement(
          `/accounts/${accountId}/statement?from=${T0 + 1000}&format=${format}`,
        ).expect(200);
        if (format === 'json') {
          const body = JSON.parse(res.body as string) as Statement;
          expect(body.openingBalance).toBe(5);
          expectConsistent(body, body.entries);
          counts.push(body.entryCount);
        } else if (format === 'ndjson') {
          const { summary, entries } = parseNdjson(res.body as string);
          expect(summary.openingBalance).toBe(5);
          expectConsistent(summary, entries);
          counts.push(summary.entryCount);
        } else {
          const rows = (res.body as string).split('\r\n').slice(1, -1);
          const amounts = rows.map((r) => r.split(','));
          let balance = 5;
          for (const row of amounts) {
            balance += Number(row[4]);
            expect(Number(row[5])).toBe(balance);
          }
          counts.push(rows.length);
        }
      }
      await deposits;
      clock.step = 0;
      // the statements really ran while deposits committed: they saw different counts
      expect(new Set(counts).size).toBeGreaterThan(1);
      const final = await http()
        .get(`/accounts/${accountId}/statement?from=${T0 + 1000}`)
        .expect(200);
      expect((final.body as Statement).entryCount).toBe(201);
      expectConsistent(final.body as Statement, (final.body as Statement).entries);
    });
  });

  describe('streaming and disconnects', () => {
    const ENTRIES = 100_000;
    let accountId: string;
    beforeAll(async () => {
      clock.step = 0;
      clock.current = T0;
      accountId = (await createAccount(t)).accountId;
      // 100,000 deposits of 1..100,000 at T0+1 …, with a correct balance_after chain.
      await t.sql(
        `INSERT INTO ledger_transactions
           (movement_id, account_id, timestamp, operation, amount, balance_after)
         SELECT gen_random_uuid(), $1, $2::bigint + i, 'DEPOSIT', i, i * (i + 1) / 2
           FROM generate_series(1, $3::bigint) AS i`,
        [accountId, T0, ENTRIES],
      );
      clock.current = T0 + ENTRIES + 1;
    });

    const pool = () => (t.app.get(DataSource).driver as unknown as { master: Pool }).master;
    const busyConnections = () => pool().totalCount - pool().idleCount;
    /** Sessions inside a statement's transaction (named so while it runs). */
    const statementSessions = async () =>
      (
        await t.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = $1`,
          [STATEMENT_APPLICATION_NAME],
        )
      )[0].n;
    /** No statement transaction open, and every connection of the app's pool idle again. */
    const allReleased = async () => (await statementSessions()) === 0 && busyConnections() === 0;

    it('streams a large statement in full, in order, consistent', async () => {
      const res = await statement(`/accounts/${accountId}/statement?format=ndjson`).expect(200);
      const { summary, entries } = parseNdjson(res.body as string);
      expect(summary).toMatchObject({
        entryCount: ENTRIES,
        closingBalance: (ENTRIES * (ENTRIES + 1)) / 2,
      });
      expect(entries.length).toBe(ENTRIES);
      expectConsistent(summary, entries);
      await waitFor(allReleased, {
        timeoutMs: 10_000,
        what: 'the statement connection to return to the pool',
      });
    });

    it('holds one connection while a slow client reads, and releases it when the client disconnects', async () => {
      const server = t.app.getHttpServer();
      if (!server.listening) {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      }
      const { port } = server.address() as AddressInfo;
      expect(await statementSessions()).toBe(0);
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        get(`http://127.0.0.1:${port}/accounts/${accountId}/statement`, resolve).on(
          'error',
          reject,
        );
      });
      expect(response.statusCode).toBe(200);
      const first = await new Promise<Buffer>((resolve) => response.once('data', resolve));
      response.pause();
      expect(first.toString('utf8')).toMatch(new RegExp(`^\\{"accountId":"${accountId}"`));
      // Backpressure: the client reads nothing more, so the service stops reading the COPY
      // and PostgreSQL waits to write, mid-range, on one connection.
      await waitFor(
        async () =>
          (
            await t.sql(
              `SELECT 1 FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = $1
                  AND state = 'active' AND wait_event = 'ClientWrite'`,
              [STATEMENT_APPLICATION_NAME],
            )
          ).length === 1,
        { what: 'a statement COPY held back by the paused client' },
      );
      expect(response.complete).toBe(false);

      response.destroy(); // the client goes away mid-stream
      await waitFor(allReleased, {
        timeoutMs: 10_000,
        what: 'the statement connection to return to the pool',
      });
      // and the service goes on serving statements
      const again = await http().get(
        `/accounts/${accountId}/statement?from=${T0 + 1}&to=${T0 + 3}`,
      );
      expect(again.status).toBe(200);
      expect((again.body as Statement).entryCount).toBe(2);
    });

    it('ends the response and frees the pool slot when the client reads nothing for STATEMENT_STALL_TIMEOUT_MS', async () => {
      const STALL_MS = 1_000;
      const stalling = await createTestApp({
        clock,
        database: t.database,
        env: { STATEMENT_STALL_TIMEOUT_MS: String(STALL_MS) },
      });
      try {
        const server = stalling.app.getHttpServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        const response = await new Promise<IncomingMessage>((resolve, reject) => {
          get(`http://127.0.0.1:${port}/accounts/${accountId}/statement?format=csv`, resolve).on(
            'error',
            reject,
          );
        });
        let closed = false;
        response.on('error', () => undefined).once('close', () => (closed = true));
        await new Promise((resolve) => response.once('data', resolve));
        response.pause();
        const pausedAt = Date.now();
        await waitFor(async () => (await statementSessions()) === 1, {
          what: 'the statement session',
        });
        // The client reads nothing, yet the service ends the response once the stall timeout
        // has passed (not before): it closes the connection on its side, and the client,
        // reading on, finds a truncated body (no final chunk), not a complete-looking one.
        const openConnections = () =>
          new Promise<number>((resolve, reject) =>
            server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
          );
        await waitFor(async () => (await openConnections()) === 0, {
          timeoutMs: 10_000,
          what: 'the service to close the connection',
        });
        expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(STALL_MS);
        response.resume();
        await waitFor(() => Promise.resolve(closed), {
          timeoutMs: 10_000,
          what: 'the client to see the response end',
        });
        expect(response.complete).toBe(false);
        // The COPY's session is gone and the stalled app's pool has every connection back.
        const stalledPool = (stalling.app.get(DataSource).driver as unknown as { master: Pool })
          .master;
        await waitFor(
          async () =>
            (await statementSessions()) === 0 &&
            stalledPool.totalCount - stalledPool.idleCount === 0,
          { timeoutMs: 10_000, what: 'the pool slot to be freed' },
        );
        await request(server)
          .get(`/accounts/${accountId}/statement?from=${T0 + 1}&to=${T0 + 2}`)
          .expect(200);
      } finally {
        await stalling.close();
      }
    });

    it('releases the connection after a 404 or 400 too', async () => {
      await http().get('/accounts/nobody-here/statement').expect(404);
      await http()
        .get(`/accounts/${accountId}/statement?from=${T0 + 10}&to=${T0}`)
        .expect(400);
      await http().head(`/accounts/${accountId}/statement`).expect(200);
      await waitFor(allReleased, { timeoutMs: 10_000, what: 'no connection left busy' });
    });
  });
});
