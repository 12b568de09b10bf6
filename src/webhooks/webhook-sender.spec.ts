import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { signedHeaders, WebhookSender } from './webhook-sender';

const SECRET = `whsec_${Buffer.from('a secret of 24 bytes....').toString('base64')}`;

function sender(env: Record<string, string>): WebhookSender {
  return new WebhookSender(new AppConfig(validateEnvironment(env)));
}

describe('WebhookSender', () => {
  let server: Server;
  let url: string;
  const answered: string[] = [];
  beforeAll(async () => {
    // /hang never answers; anything else answers 202 after reading the body.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        answered.push(body);
        if (req.url === '/hang') return;
        res.statusCode = 202;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const message = (path: string) => ({
    url: `${url}${path}`,
    secret: SECRET,
    eventId: '42',
    timestamp: Date.now(),
    body: '{"eventId":"42"}',
  });

  it('signs with Standard Webhooks headers that the standardwebhooks package verifies', () => {
    const m = message('/');
    const headers = signedHeaders(m);
    expect(headers['webhook-id']).toBe('42');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(m.timestamp / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(m.body, headers)).toEqual({ eventId: '42' });
  });

  it('answers the receiver status', async () => {
    const result = await sender({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }).send(message('/ok'));
    expect(result).toEqual({ statusCode: 202 });
    expect(answered).toContain('{"eventId":"42"}');
  });

  it('gives up after WEBHOOK_TIMEOUT_MS without a status', async () => {
    const started = Date.now();
    const result = await sender({
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_TIMEOUT_MS: '200',
      WEBHOOK_LEASE_MS: '1000',
    }).send(message('/hang'));
    expect(result).toEqual({ statusCode: null, error: 'no answer within 200 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('never connects to a forbidden address, literal or looked up', async () => {
    const strict = sender({});
    const before = answered.length;
    expect(await strict.send(message('/ok'))).toEqual({
      statusCode: null,
      error: 'the URL names a forbidden address',
    });
    const byName = await strict.send({
      ...message('/ok'),
      url: url.replace('127.0.0.1', 'localhost'),
    });
    expect(byName.statusCode).toBeNull();
    expect(byName.error).toMatch(/forbidden address/);
    expect(answered.length).toBe(before);
  });
});
