import { Agent, request } from 'node:http';
import { serviceLinesMentioning } from './logs';

/** One HTTP exchange as the client saw it. `status` 0: no HTTP response (network error). */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, else the raw text. */
  body: unknown;
  text: string;
  error?: string;
  startedAt: number;
  ms: number;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body bytes/text sent as is (takes precedence over `body`). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  timeoutMs?: number;
  agent?: Agent | false;
}

/** Keep-alive connections, as a real client pool would use. */
export const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * A plain node:http call that never throws: network failures and timeouts come back as
 * status 0 with `error`, so load loops can count them instead of dying on them.
 */
export function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const startedAt = Date.now();
  const headers: Record<string, string> = { ...options.headers };
  let payload: Buffer | undefined;
  if (options.raw !== undefined) {
    payload = Buffer.isBuffer(options.raw) ? options.raw : Buffer.from(options.raw, 'utf8');
  } else if (options.body !== undefined) {
    payload = Buffer.from(JSON.stringify(options.body), 'utf8');
    headers['content-type'] ??= 'application/json';
  }
  if (payload) headers['content-length'] = String(payload.length);
  const url = new URL(baseUrl);
  return new Promise<Reply>((resolve) => {
    let settled = false;
    const finish = (reply: Omit<Reply, 'startedAt' | 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...reply, startedAt, ms: Date.now() - startedAt });
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers,
        agent: options.agent ?? keepAlive,
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) =>
          finish({ status: 0, headers: {}, body: undefined, text: '', error: e.message }),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (/json/.test(String(res.headers['content-type'] ?? '')) && text.length > 0) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          finish({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no response within ${options.timeoutMs ?? 30_000} ms`)),
    );
    req.on('error', (e) =>
      finish({ status: 0, headers: {}, body: undefined, text: '', error: e.message }),
    );
    req.end(payload);
  });
}

/** True when the reply is the contract's problem+json error body. */
export function isProblem(reply: Reply): boolean {
  const type = String(reply.headers['content-type'] ?? '');
  const body = reply.body as Record<string, unknown> | undefined;
  return (
    type.startsWith('application/problem+json') &&
    typeof body === 'object' &&
    body !== null &&
    typeof body.type === 'string' &&
    typeof body.title === 'string' &&
    body.status === reply.status &&
    typeof body.code === 'string' &&
    typeof body.detail === 'string'
  );
}

/**
 * A short description of a reply for assertion messages, with what the service logged under
 * its request id when the reply is an error.
 */
export function describeReply(r: Reply): string {
  if (r.status === 0) return `network error after ${r.ms} ms: ${r.error}`;
  const text = `${r.status} after ${r.ms} ms: ${r.text.slice(0, 300)}`;
  const id = r.headers['x-request-id'];
  if (r.status < 400 || typeof id !== 'string') return text;
  const logged = serviceLinesMentioning(id);
  return logged.length > 0 ? `${text}\n  logged: ${logged.join('\n  logged: ')}` : text;
}

/** Opens each account with the same initial deposit through the API; every one must be a 201. */
export async function openAccounts(
  baseUrl: string,
  accountIds: readonly string[],
  initialDeposit: number,
): Promise<void> {
  for (const accountId of accountIds) {
    const r = await call(baseUrl, 'POST', '/accounts', { body: { accountId, initialDeposit } });
    if (r.status !== 201) {
      throw new Error(`opening ${accountId} failed: ${describeReply(r)}`);
    }
  }
}
