import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { createTestApp, TestApp } from '../support/test-app';

/** Sends raw bytes (no HTTP client would send them) and returns the raw response. */
function rawRequest(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => {
      socket.destroy();
      resolve(data);
    });
  });
}

/** The status line, the problem+json body, and how long the answer took. */
async function timedRawRequest(
  port: number,
  send: (socket: Socket) => void,
): Promise<{ status: number; body: Record<string, unknown>; ms: number; raw: string }> {
  const started = Date.now();
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => send(socket));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve(data));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(data) : reject(error),
    );
  });
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
  const text = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return {
    status,
    body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>,
    ms: Date.now() - started,
    raw,
  };
}

const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1200;

describe('requests Node rejects before routing', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      },
    });
    const server = t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['a control character in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n'],
    ['a malformed request line', 'NOT A REQUEST\r\n\r\n'],
    ['a space in a header name', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
  ])('%s gets a problem+json 400', async (_name, payload) => {
    const response = await rawRequest(port, payload);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toMatch(/content-type: application\/problem\+json/i);
    expect(response).toMatch(/x-request-id: [0-9a-f-]{36}\r\n/i);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', type: 'about:blank' });
    expect(body.errors).toEqual([expect.objectContaining({ field: 'request' })]);
  });

  it('a client that never finishes its headers gets 408 REQUEST_TIMEOUT in time', async () => {
    // The socket stays open: only the server's deadline ends this exchange.
    const reply = await timedRawRequest(port, (socket) =>
      socket.write('POST /deposits HTTP/1.1\r\nHost: x\r\nContent-Type: appl'),
    );
    expect(reply.status).toBe(408);
    expect(reply.raw).toMatch(/content-type: application\/problem\+json/i);
    expect(reply.body).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(reply.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(reply.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
  });

  it('a client that never finishes its body gets 408 REQUEST_TIMEOUT in time', async () => {
    const reply = await timedRawRequest(port, (socket) =>
      socket.write(
        'POST /deposits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 100\r\n\r\n{"accountId":',
      ),
    );
    expect(reply.status).toBe(408);
    expect(reply.body).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(reply.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(reply.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
  });

  it('a 1 MB URL is 414 URI_TOO_LONG', async () => {
    const reply = await timedRawRequest(port, (socket) =>
      socket.end(`GET /accounts?cursor=${'a'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    expect(reply.status).toBe(414);
    expect(reply.body).toMatchObject({ status: 414, code: 'URI_TOO_LONG' });
  });

  it('100 KB of headers is 431 HEADERS_TOO_LARGE', async () => {
    const headers = Array.from({ length: 100 }, (_, i) => `X-Pad-${i}: ${'b'.repeat(1000)}\r\n`);
    const reply = await timedRawRequest(port, (socket) =>
      socket.end(`GET /health HTTP/1.1\r\nHost: x\r\n${headers.join('')}\r\n`),
    );
    expect(reply.status).toBe(431);
    expect(reply.body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
  });

  it('still serves a well-formed request on the same server', async () => {
    const response = await rawRequest(
      port,
      'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
  });
});
