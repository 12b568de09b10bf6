import { Client } from 'pg';
import request from 'supertest';
import type { App } from 'supertest/types';
import { waitFor } from '../../scripts/lib/wait';
import { accountId, createAccount, pay } from '../support/factories';
import { EventsPurger } from '../../src/events/events-purger';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

jest.setTimeout(180_000);

interface Event {
  eventId: string;
  type: string;
  occurredAt: number;
  accountIds: string[];
  data: Record<string, unknown>;
}
interface EventPage {
  data: Event[];
  nextCursor: string;
}

/** GET /events (with a query string), expecting 200. */
async function events(t: TestApp, query = ''): Promise<EventPage> {
  const res = await request(t.app.getHttpServer() as App)
    .get(`/events${query}`)
    .expect(200);
  return res.body as EventPage;
}

/** Every event after `after` (pages of `limit`), and the cursor to poll next. */
async function readAll(
  t: TestApp,
  filters = '',
  limit = 500,
  after?: string,
): Promise<{ events: Event[]; cursor: string }> {
  const all: Event[] = [];
  let cursor = after;
  for (;;) {
    const page = await events(
      t,
      `?limit=${limit}${filters}${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(page.nextCursor).toEqual(expect.any(String));
    all.push(...page.data);
    if (page.data.length < limit) return { events: all, cursor: page.nextCursor };
    cursor = page.nextCursor;
  }
}

/**
 * Reads from `after` until `count` events have come. An event shows once every transaction
 * older than its own has ended, in the whole PostgreSQL cluster (other test files' included):
 * wait for them, positively, rather than expect them on the first read.
 */
async function readAtLeast(
  t: TestApp,
  count: number,
  filters = '',
  limit = 500,
  after?: string,
  timeoutMs = 30_000,
): Promise<{ events: Event[]; cursor: string }> {
  const seen: Event[] = [];
  let cursor = after;
  await waitFor(
    async () => {
      const more = await readAll(t, filters, limit, cursor);
      seen.push(...more.events);
      cursor = more.cursor;
      return seen.length >= count;
    },
    { what: `${count} events${filters}`, timeoutMs, intervalMs: 20 },
  );
  return { events: seen, cursor: cursor! };
}

async function get(t: TestApp, path: string): Promise<Record<string, unknown>> {
  return (
    await request(t.app.getHttpServer() as App)
      .get(path)
      .expect(200)
  ).body as Record<string, unknown>;
}

describe('events feed (GET /events)', () => {
  const clock = new ManualClock(1_763_700_000_000);
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      clock,
      // The purge job runs often here: it must not disturb the feed (nothing is 30 days old).
      env: {
        CASHBACK_DELAY_MS: '60000',
        CASHBACK_WORKER_INTERVAL_MS: '3600000',
        EVENTS_PURGE_INTERVAL_MS: '50',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reports every change with the data its GET endpoint shows, in commit order', async () => {
    const start = (await events(t, '?limit=500')).nextCursor;
    const alice = await createAccount(t, { initialDeposit: 10_000 });
    const bob = await createAccount(t, { currency: 'USD' });
    const server = t.app.getHttpServer() as App;
    clock.advance(10);
    const deposit = (
      await request(server).post('/deposits').send({ accountId: alice.accountId, amount: 500 })
    ).body as { transactionId: string };
    const withdrawal = (
      await request(server).post('/withdrawals').send({ accountId: alice.accountId, amount: 200 })
    ).body as { transactionId: string };
    const transfer = (
      await request(server)
        .post('/transfers')
        .send({ sourceAccountId: alice.accountId, targetAccountId: bob.accountId, amount: 300 })
    ).body as { transactionId: string };
    const payment = await pay(t, alice.accountId, 5000);
    const paymentThen = await get(t, `/payments/${payment.paymentId}`);
    // A refused movement writes nothing, events included.
    await request(server)
      .post('/withdrawals')
      .send({ accountId: bob.accountId, amount: 1_000_000 })
      .expect(422);

    const { events: before } = await readAtLeast(t, 8, '', 500, start);
    clock.advance(60_000);
    const paymentAfter = await get(t, `/payments/${payment.paymentId}`); // settles the cashback
    expect(paymentAfter.status).toBe('CASHBACK_RECEIVED');
    const { events: all } = await readAtLeast(t, 10, '', 500, start);
    expect(all.slice(0, before.length)).toEqual(before);
    expect(before).toHaveLength(8);

    const cashback = (await get(t, `/accounts/${alice.accountId}/transactions?limit=500`)).data as {
      type: string;
      transactionId: string;
    }[];
    const cashbackId = cashback.find((e) => e.type === 'CASHBACK')!.transactionId;
    const tx = (id: string) => get(t, `/transactions/${id}`);
    const initial = cashback[0].transactionId;

    expect(all.map((e) => [e.type, e.accountIds])).toEqual([
      ['account.created', [alice.accountId]],
      ['transaction.posted', [alice.accountId]],
      ['account.created', [bob.accountId]],
      ['transaction.posted', [alice.accountId]],
      ['transaction.posted', [alice.accountId]],
      ['transaction.posted', [alice.accountId, bob.accountId].sort()],
      ['payment.created', [alice.accountId]],
      ['transaction.posted', [alice.accountId]],
      ['transaction.posted', [alice.accountId]],
      ['payment.cashback_credited', [alice.accountId]],
    ]);
    expect(all.map((e) => e.data)).toEqual([
      alice,
      await tx(initial),
      bob,
      await tx(deposit.transactionId),
      await tx(withdrawal.transactionId),
      await tx(transfer.transactionId),
      paymentThen,
      await tx(payment.transactionId),
      await tx(cashbackId),
      paymentAfter,
    ]);
    expect(all.map((e) => (e.data as { type?: string }).type ?? null)).toEqual([
      null,
      'DEPOSIT',
      null,
      'DEPOSIT',
      'WITHDRAWAL',
      'TRANSFER',
      null,
      'PAYMENT',
      'CASHBACK',
      null,
    ]);
    expect(all[0].occurredAt).toBe(alice.createdAt);
    expect(all[9].occurredAt).toBe(payment.cashbackDueAt);
    const ids = all.map((e) => BigInt(e.eventId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('reports account changes and every step of a hold, with the data their GETs show', async () => {
    const start = (await events(t, '?limit=500')).nextCursor;
    const server = t.app.getHttpServer() as App;
    const a = await createAccount(t, { initialDeposit: 1000 });
    const b = await createAccount(t);
    const patched = (
      await request(server)
        .patch(`/accounts/${a.accountId}`)
        .send({ overdraftLimit: 50 })
        .expect(200)
    ).body as Record<string, unknown>;
    const frozen = (await request(server).post(`/accounts/${a.accountId}/freeze`).expect(200))
      .body as Record<string, unknown>;
    // A repeated freeze changes nothing, so it reports nothing.
    await request(server).post(`/accounts/${a.accountId}/freeze`).expect(200);
    const active = (await request(server).post(`/accounts/${a.accountId}/unfreeze`).expect(200))
      .body as Record<string, unknown>;
    const hold = async (body: Record<string, unknown>) =>
      (await request(server).post('/holds').send(body).expect(201)).body as { holdId: string };
    const toCapture = await hold({
      accountId: a.accountId,
      amount: 300,
      targetAccountId: b.accountId,
    });
    const toVoid = await hold({ accountId: a.accountId, amount: 100 });
    const toExpire = await hold({ accountId: a.accountId, amount: 50, expiresInMs: 1000 });
    const capture = (
      await request(server).post(`/holds/${toCapture.holdId}/capture`).send({}).expect(201)
    ).body as { transactionId: string; hold: Record<string, unknown> };
    const voided = (await request(server).post(`/holds/${toVoid.holdId}/void`).expect(200))
      .body as Record<string, unknown>;
    clock.advance(1000);
    const expired = await get(t, `/holds/${toExpire.holdId}`);
    expect(expired.status).toBe('EXPIRED');

    const { events: all } = await readAtLeast(t, 13, '', 500, start);
    expect(all.map((e) => [e.type, e.accountIds])).toEqual(
      [
        ['account.created', [a.accountId]],
        ['transaction.posted', [a.accountId]],
        ['account.created', [b.accountId]],
        ['account.updated', [a.accountId]],
        ['account.updated', [a.accountId]],
        ['account.updated', [a.accountId]],
        ['hold.created', [a.accountId, b.accountId]],
        ['hold.created', [a.accountId]],
        ['hold.created', [a.accountId]],
        ['hold.captured', [a.accountId, b.accountId]],
        ['transaction.posted', [a.accountId, b.accountId].sort()],
        ['hold.voided', [a.accountId]],
        ['hold.expired', [a.accountId]],
      ].slice(0, all.length),
    );
    expect(all).toHaveLength(13);
    const data = all.map((e) => e.data);
    expect(data.slice(3, 6)).toEqual([patched, frozen, active]);
    expect(data[6]).toEqual({
      ...capture.hold,
      status: 'AUTHORIZED',
      capturedAmount: 0,
      capture: null,
    });
    expect(data[9]).toEqual(capture.hold);
    expect(data[10]).toEqual(await get(t, `/transactions/${capture.transactionId}`));
    expect(data[11]).toEqual(voided);
    expect(data[12]).toEqual(expired);
    expect(all[12].occurredAt).toBe(expired.expiresAt);
  });

  it('reports refunds and reversals; a fully refunded payment credits no cashback', async () => {
    const start = (await events(t, '?limit=500')).nextCursor;
    const server = t.app.getHttpServer() as App;
    const a = await createAccount(t, { initialDeposit: 10_000 });
    const partial = await pay(t, a.accountId, 5000);
    const full = await pay(t, a.accountId, 1000);
    const refund = (
      await request(server)
        .post(`/payments/${partial.paymentId}/refunds`)
        .send({ amount: 2000 })
        .expect(201)
    ).body as { transactionId: string; payment: Record<string, unknown> };
    await request(server).post(`/payments/${full.paymentId}/refunds`).send({}).expect(201);
    const deposit = (
      await request(server)
        .post('/deposits')
        .send({ accountId: a.accountId, amount: 300 })
        .expect(201)
    ).body as { transactionId: string };
    const reversal = (
      await request(server)
        .post(`/transactions/${deposit.transactionId}/reversals`)
        .send({ amount: 100 })
        .expect(201)
    ).body as { transactionId: string };
    clock.advance(60_000); // past both cashbacks' due time
    const credited = await get(t, `/payments/${partial.paymentId}`);
    expect(credited.status).toBe('CASHBACK_RECEIVED');
    expect((await get(t, `/payments/${full.paymentId}`)).status).toBe('REFUNDED');

    const { events: all } = await readAtLeast(t, 14, '', 500, start);
    const types = all.map((e) => e.type);
    expect(types).toEqual([
      'account.created',
      'transaction.posted',
      'payment.created',
      'transaction.posted',
      'payment.created',
      'transaction.posted',
      'payment.refunded',
      'transaction.posted',
      'payment.refunded',
      'transaction.posted',
      'transaction.posted',
      'transaction.posted',
      'transaction.posted',
      'payment.cashback_credited',
    ]);
    expect(types.filter((type) => type === 'payment.refunded')).toHaveLength(2);
    const refunded = all.find((e) => e.type === 'payment.refunded')!;
    expect(refunded.data).toEqual(refund.payment);
    const posted = (id: string) =>
      all.find((e) => e.type === 'transaction.posted' && e.data.transactionId === id)!.data;
    expect(posted(refund.transactionId)).toEqual(
      await get(t, `/transactions/${refund.transactionId}`),
    );
    expect(posted(refund.transactionId).type).toBe('REFUND');
    const reversed = posted(reversal.transactionId);
    expect(reversed).toEqual(await get(t, `/transactions/${reversal.transactionId}`));
    expect(reversed.type).toBe('REVERSAL');
    // The deposit's own event shows it as posted, before its reversal.
    expect(posted(deposit.transactionId).reversedAmount).toBe(0);
    const cashbacks = all.filter((e) => e.type === 'payment.cashback_credited');
    expect(cashbacks.map((e) => e.data)).toEqual([credited]);
  });

  it('filters by type (repeatable) and by account, and pages with limit', async () => {
    const start = (await events(t, '?limit=500')).nextCursor;
    const a = await createAccount(t, { initialDeposit: 100 });
    const b = await createAccount(t, { initialDeposit: 200 });
    await request(t.app.getHttpServer() as App)
      .post('/transfers')
      .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 50 })
      .expect(201);

    await readAtLeast(t, 5, '', 500, start);
    const only = await readAll(t, '&type=account.created', 500, start);
    expect(only.events.map((e) => e.data.accountId)).toEqual([a.accountId, b.accountId]);
    const two = await readAll(t, '&type=account.created&type=transaction.posted', 500, start);
    expect(two.events).toHaveLength(5);
    const ofB = await readAll(t, `&accountId=${b.accountId}`, 500, start);
    expect(ofB.events.map((e) => e.type)).toEqual([
      'account.created',
      'transaction.posted',
      'transaction.posted',
    ]);
    expect(ofB.events.every((e) => e.accountIds.includes(b.accountId))).toBe(true);

    // Pages of 1 return the same events as one page.
    const byOne = await readAll(t, '', 1, start);
    const whole = await readAll(t, '', 500, start);
    expect(byOne.events).toEqual(whole.events);
    expect(whole.events).toHaveLength(5);

    // `after` also takes an eventId: the events after it.
    const afterFirst = await readAll(t, '', 500, whole.events[0].eventId);
    expect(afterFirst.events).toEqual(whole.events.slice(1));

    // The last page's cursor is where to poll next: nothing new yet, then only what is new.
    expect((await events(t, `?after=${whole.cursor}`)).data).toEqual([]);
    const c = await createAccount(t);
    const next = { data: (await readAtLeast(t, 1, '', 500, whole.cursor)).events };
    expect(next.data.map((e) => [e.type, e.data.accountId])).toEqual([
      ['account.created', c.accountId],
    ]);
    // A filtered poll moves its cursor past what the filter left out.
    const quiet = await events(t, `?type=payment.refunded&after=${whole.cursor}`);
    expect(quiet.data).toEqual([]);
    expect((await events(t, `?after=${quiet.nextCursor}`)).data).toEqual([]);
  });

  it('refuses bad parameters with 400 and expired or unknown positions with 410', async () => {
    const server = t.app.getHttpServer() as App;
    const bad = await request(server).get('/events?type=account.deleted').expect(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((bad.body as { errors: { field: string }[] }).errors[0].field).toBe('type');
    await request(server).get('/events?after=not-a-cursor').expect(400);
    await request(server)
      .get(`/events?accountId=${'x'.repeat(65)}`)
      .expect(400);
    await request(server).get('/events?limit=0').expect(400);

    const gone = await request(server).get('/events?after=999999999').expect(410);
    expect(gone.body).toMatchObject({ code: 'CURSOR_EXPIRED', status: 410 });

    const cursor = (await events(t)).nextCursor;
    clock.advance(30 * 86_400_000 + 1);
    // The purge job deletes what is older than the 30 days (here: everything so far).
    const [{ n: before }] = await t.sql<{ n: string }>(`SELECT count(*)::text AS n FROM events`);
    expect(Number(before)).toBeGreaterThan(0);
    // (Its interval may have run first: either way none is left.)
    expect(await t.app.get(EventsPurger).purge()).toBeLessThanOrEqual(Number(before));
    expect(await t.sql(`SELECT 1 FROM events`)).toEqual([]);
    const expired = await request(server).get(`/events?after=${cursor}`).expect(410);
    expect(expired.body).toMatchObject({ code: 'CURSOR_EXPIRED' });
  });
});

describe('events feed under concurrent writers', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Several batches in flight at once: a batch that drew smaller event ids can commit after
    // a later one, which is exactly what paging by event id alone would get wrong.
    t = await createTestApp({
      env: { LEDGER_BATCHES_IN_FLIGHT: '10', LEDGER_MAX_BATCH: '2', DB_POOL_SIZE: '14' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('paging from the start while 500 movements run returns each committed one exactly once', async () => {
    const server = t.app.getHttpServer() as App;
    const accounts = await Promise.all(
      Array.from({ length: 50 }, () => createAccount(t, { initialDeposit: 1_000_000 })),
    );
    const start = (await events(t, '?limit=500')).nextCursor;
    let writing = true;
    const writes = (async () => {
      const results = await Promise.all(
        Array.from({ length: 500 }, async (_, i) => {
          // Payments and keyed requests write more rows after their entries (payment row,
          // scheduled credit, stored response): a wider gap between drawing event ids and COMMIT.
          const account = accounts[i % accounts.length].accountId;
          const res = await request(server)
            .post(i % 2 === 0 ? '/payments' : '/deposits')
            .set('Idempotency-Key', `feed-${i}`)
            .send({ accountId: account, amount: 1 + (i % 7) });
          return res.status === 201 ? (res.body as { transactionId: string }).transactionId : null;
        }),
      );
      writing = false;
      return results;
    })();

    const seen: Event[] = [];
    let cursor = start;
    let polls = 0;
    while (writing) {
      const page = await events(t, `?limit=37&type=transaction.posted&after=${cursor}`);
      seen.push(...page.data);
      cursor = page.nextCursor;
      polls += 1;
    }
    const committed = (await writes).filter((id): id is string => id !== null);
    expect(committed).toHaveLength(500);
    // Quiet now: what is left comes on the next pages.
    const rest = await readAtLeast(t, 500 - seen.length, '&type=transaction.posted', 37, cursor);
    seen.push(...rest.events);

    const ids = seen.map((e) => e.data.transactionId as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...committed].sort());
    expect(polls).toBeGreaterThan(1);

    // The same events, read again from the start in one go, come in the same order.
    const again = await readAll(t, '&type=transaction.posted', 500, start);
    expect(again.events.map((e) => e.eventId)).toEqual(seen.map((e) => e.eventId));
    const unknown = accountId('never-opened');
    expect((await events(t, `?accountId=${unknown}`)).data).toEqual([]);
  });
});

describe('events feed: a transaction that commits late', () => {
  let t: TestApp;
  let held: Client;
  beforeAll(async () => {
    t = await createTestApp();
    held = new Client({ connectionString: t.database.url });
    await held.connect();
  });
  afterAll(async () => {
    await held?.end();
    await t?.close();
  });

  it('is served in its place, never skipped, though its event id is smaller', async () => {
    const start = (await readAtLeast(t, 0)).cursor;
    // A writer (a slow ledger batch, here by hand) draws an event id, then takes its time.
    await held.query('BEGIN');
    const [{ event_id: heldId }] = (
      await held.query<{ event_id: string }>(
        `INSERT INTO events (type, account_ids, occurred_at, data)
         VALUES ('account.updated', '{late}', 1, '{"accountId":"late"}') RETURNING event_id::text`,
      )
    ).rows;
    const account = await createAccount(t, { initialDeposit: 5 });
    const [{ n }] = await t.sql<{ n: string }>(
      `SELECT count(*)::text AS n FROM events WHERE event_id > $1 AND $2 = ANY(account_ids)`,
      [heldId, account.accountId],
    );
    expect(n).toBe('2'); // committed, with larger ids than the held one

    // While the held transaction runs, the feed serves nothing past it.
    const early = await events(t, `?after=${start}`);
    expect(early.data).toEqual([]);
    await held.query('COMMIT');

    const { events: late } = await readAtLeast(t, 3, '', 500, early.nextCursor, 10_000);
    expect(late.map((e) => [e.type, e.accountIds])).toEqual([
      ['account.updated', ['late']],
      ['account.created', [account.accountId]],
      ['transaction.posted', [account.accountId]],
    ]);
  });
});
