import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
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

describe('requests Node rejects before routing', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp();
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
  });

  it('still serves a well-formed request on the same server', async () => {
    const response = await rawRequest(
      port,
      'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
  });
});
