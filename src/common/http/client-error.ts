import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors/error-codes';
import { problem } from '../errors/problem';

interface ClientError extends Error {
  code?: string;
  /** The chunk Node's HTTP parser was reading when it failed (a Buffer at run time). */
  rawPacket?: unknown;
}

/** A request line starts with a method token and a space: `GET /…`. */
const REQUEST_LINE_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * Node's parser reports a request line or headers over `maxHeaderSize` (16 KB) the same way.
 * It is the URL when the chunk it failed on starts a request whose line never ended in it;
 * a URL arriving in many small chunks is reported as headers, which is still the right class.
 */
function overflowCode(error: ClientError): ErrorCode {
  const packet = error.rawPacket;
  if (!Buffer.isBuffer(packet)) return 'HEADERS_TOO_LARGE';
  const head = packet.subarray(0, 64).toString('latin1');
  return REQUEST_LINE_START.test(head) && !packet.includes('\r\n')
    ? 'URI_TOO_LONG'
    : 'HEADERS_TOO_LARGE';
}

function classify(error: ClientError): { code: ErrorCode; detail: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        code: 'REQUEST_TIMEOUT',
        detail:
          'The request was not received in time (see HTTP_HEADERS_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS).',
      };
    case 'HPE_HEADER_OVERFLOW': {
      const code = overflowCode(error);
      return {
        code,
        detail:
          code === 'URI_TOO_LONG'
            ? 'The request URL is too long.'
            : 'The request headers are too large.',
      };
    }
    default:
      return { code: 'VALIDATION_FAILED', detail: 'The request is not valid HTTP.' };
  }
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP server refuses some requests before Fastify sees
 * them (a malformed request line, a control character in a header, headers or a URL over
 * 16 KB, a client too slow to send its request) and would answer a bare 400. Answer them in
 * the contract's problem+json shape instead (with a fresh X-Request-Id, as every response
 * carries one), then close the socket.
 */
export function answerClientErrorWithProblem(error: ClientError, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && !socket.readable)) {
    socket.destroy();
    return;
  }
  const { code, detail } = classify(error);
  const body = problem(
    code,
    detail,
    code === 'VALIDATION_FAILED'
      ? [{ field: 'request', message: 'request is not valid HTTP' }]
      : undefined,
  );
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? 'Error'}\r\n` +
      `Content-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nX-Request-Id: ${randomUUID()}\r\n` +
      `Connection: close\r\n\r\n${text}`,
  );
}
