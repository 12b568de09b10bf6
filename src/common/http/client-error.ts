import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { problem } from '../errors/problem';

/**
 * Node's HTTP parser rejects some requests before any middleware runs (a control character in
 * a header, a malformed request line, oversized headers) and answers a bare 400 without a
 * body. Answer those in the contract's problem+json shape (with a fresh X-Request-Id, as every
 * response carries one) instead, then close the socket.
 */
export function answerClientErrorsWithProblems(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && !socket.readable)) {
      socket.destroy();
      return;
    }
    const detail =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 'The request headers are too large.'
        : 'The request is not valid HTTP.';
    const body = JSON.stringify(problem('VALIDATION_FAILED', detail));
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${randomUUID()}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
}
