import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/wait';
import { Cluster, useCluster } from './support/cluster';
import { call, openAccounts } from './support/http';
import { killUnderLoad, Load } from './support/load';
import { startService } from './support/service';
import { pick, randomInt } from './support/util';

interface Hit {
  id: string;
  verified: boolean;
}

/**
 * The outbox and the webhooks against the built service: kill -9 while deliveries and movements
 * are in flight. After a restart every committed change has exactly one event, no rolled-back
 * change has any, and every event reaches the endpoint (at least once), signed.
 */
describe('events and webhooks through kill -9', () => {
  let cluster: Cluster;
  const database = 'faults_events';
  const accounts = Array.from({ length: 6 }, (_, i) => `ev-${i}`);
  let receiver: Server;
  let hold = true;
  const hits: Hit[] = [];
  let verifier: Webhook | undefined;

  useCluster((c) => (cluster = c));

  beforeAll(async () => {
    // Records each delivery; while `hold`, never answers (the service dies mid-delivery).
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let verified: boolean;
        try {
          verifier?.verify(body, req.headers as Record<string, string>);
          verified = verifier !== undefined;
        } catch {
          verified = false;
        }
        hits.push({ id: String(req.headers['webhook-id']), verified });
        if (hold) return;
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('delivers every committed event after a restart, and writes none for what rolled back', async () => {
    const url = await cluster.createDatabase(database);
    const env = {
      DB_POOL_SIZE: '20',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_WORKER_INTERVAL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_LEASE_MS: '2000',
      WEBHOOK_BACKOFF_BASE_MS: '100',
      WEBHOOK_BACKOFF_MAX_MS: '500',
    };
    const first = await startService(url, env);
    const port = (receiver.address() as AddressInfo).port;
    const created = await call(first.baseUrl, 'POST', '/webhook-endpoints', {
      body: { url: `http://127.0.0.1:${port}/hook` },
    });
    expect(created.status).toBe(201);
    verifier = new Webhook((created.body as { secret: string }).secret);
    await openAccounts(first.baseUrl, accounts, 1_000_000);

    const load = new Load<null>({
      workers: 12,
      maxRequests: 20_000,
      target: () => first.baseUrl,
      next: () => ({
        method: 'POST',
        path: pick([0, 1]) === 0 ? '/deposits' : '/payments',
        body: { accountId: pick(accounts), amount: randomInt(1, 100) },
        tag: null,
      }),
    });
    const { exit, inFlightAtKill } = await killUnderLoad(first, load, {
      what: '100 acknowledged movements and a delivery in flight',
      until: () =>
        load.exchanges.filter((e) => e.reply.status === 201).length >= 100 && hits.length > 0,
    });
    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(load.repliesOtherThan([201, 0])).toEqual([]);

    // Exactly one event per committed change, none for anything rolled back with the kill.
    const [check] = await cluster.query<{ movements: string; posted: string; orphans: string }>(
      database,
      `SELECT (SELECT count(DISTINCT movement_id) FROM ledger_transactions)::text AS movements,
              (SELECT count(*) FROM events WHERE type = 'transaction.posted')::text AS posted,
              (SELECT count(*) FROM events e WHERE e.type = 'transaction.posted' AND NOT EXISTS (
                 SELECT 1 FROM ledger_transactions l
                  WHERE l.movement_id = (e.data->>'transactionId')::uuid))::text AS orphans`,
    );
    expect(check).toEqual({ movements: check.posted, posted: check.posted, orphans: '0' });
    const [payments] = await cluster.query<{ n: string; events: string }>(
      database,
      `SELECT (SELECT count(*) FROM payments)::text AS n,
              (SELECT count(*) FROM events WHERE type = 'payment.created')::text AS events`,
    );
    expect(payments.events).toBe(payments.n);
    for (const { request, reply } of load.exchanges.filter((e) => e.reply.status === 201)) {
      const id = (reply.body as { transactionId: string }).transactionId;
      const [row] = await cluster.query<{ n: string }>(
        database,
        `SELECT count(*)::text AS n FROM events
          WHERE type = 'transaction.posted' AND data->>'transactionId' = $1`,
        [id],
      );
      if (row.n !== '1') throw new Error(`${request.path} ${id}: ${row.n} events`);
    }

    // Restarted, with the receiver answering: every event arrives, signed, at least once.
    hold = false;
    const second = await startService(url, env);
    const [{ ids }] = await cluster.query<{ ids: string[] }>(
      database,
      `SELECT coalesce(array_agg(event_id::text ORDER BY xact_id, event_id), '{}') AS ids
         FROM events WHERE occurred_at >= (SELECT created_at FROM webhook_endpoints LIMIT 1)`,
    );
    expect(ids.length).toBeGreaterThan(100);
    await waitFor(
      `all ${ids.length} events delivered`,
      async () => {
        const r = await call(
          second.baseUrl,
          'GET',
          `/webhook-endpoints/${(created.body as { endpointId: string }).endpointId}/deliveries?limit=500`,
        );
        const seen = new Set(hits.map((h) => h.id));
        return ids.every((id) => seen.has(id)) && r.status === 200 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    expect(hits.every((h) => h.verified)).toBe(true);
    // In event order: each event first arrives after every event before it.
    const firstSeen = [...new Set(hits.map((h) => h.id))].filter((id) => ids.includes(id));
    expect(firstSeen).toEqual(ids.slice(0, firstSeen.length));
    await second.kill();
  });
});
