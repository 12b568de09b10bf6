import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Injectable } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { AppConfig } from '../config/app-config';
import { guardedLookup, literalHostForbidden } from './url-policy';

/** How one attempt ended: the receiver's status, or no status (timeout, refused, network). */
export interface AttemptResult {
  readonly statusCode: number | null;
  readonly error?: string;
}

export interface SignedMessage {
  readonly url: string;
  readonly secret: string;
  readonly eventId: string;
  /** Epoch ms; sent in seconds as `webhook-timestamp`. */
  readonly timestamp: number;
  /** The exact JSON text sent (and signed). */
  readonly body: string;
}

/** The Standard Webhooks headers of a message, signed with the `standardwebhooks` package. */
export function signedHeaders(message: SignedMessage): Record<string, string> {
  const seconds = Math.floor(message.timestamp / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': message.eventId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': new Webhook(message.secret).sign(
      message.eventId,
      new Date(seconds * 1000),
      message.body,
    ),
  };
}

/**
 * One POST of a webhook: signed, at most WEBHOOK_TIMEOUT_MS from connecting to the end of the
 * answer, redirects not followed (a 3xx is a failure like any non-2xx), and never to a
 * forbidden address: the address connected to is checked by the socket's `lookup`.
 */
@Injectable()
export class WebhookSender {
  private readonly timeoutMs: number;
  private readonly allowPrivate: boolean;

  constructor(config: AppConfig) {
    this.timeoutMs = config.get('WEBHOOK_TIMEOUT_MS');
    this.allowPrivate = config.get('WEBHOOK_ALLOW_PRIVATE_URLS');
  }

  send(message: SignedMessage): Promise<AttemptResult> {
    if (!this.allowPrivate && literalHostForbidden(message.url)) {
      return Promise.resolve({ statusCode: null, error: 'the URL names a forbidden address' });
    }
    const url = new URL(message.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = request(
        url,
        {
          method: 'POST',
          headers: signedHeaders(message),
          lookup: guardedLookup(this.allowPrivate),
          agent: false,
        },
        (res) => {
          // The body is not needed, but reading it to the end lets the answer complete.
          res.resume();
          res.on('end', () => finish({ statusCode: res.statusCode ?? null }));
          res.on('error', (error) => finish({ statusCode: null, error: error.message }));
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      req.on('error', (error) => finish({ statusCode: null, error: error.message }));
      req.end(message.body);
    });
  }
}
