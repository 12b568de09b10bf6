import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule, type HeaderObject } from '@nestjs/swagger';
import { SWAGGER_UI_FOLLOW_LINKS_JS } from './common/http/swagger-ui-follow-links';

export const API_TITLE = 'Banking Ledger API';
export const API_VERSION = '1.0.0';

/** Response headers every operation documents (see documentResponseHeaders). */
export const RESPONSE_HEADERS: Record<'X-Request-Id' | 'Idempotent-Replayed', HeaderObject> = {
  'X-Request-Id': {
    description:
      "The request's id: the client's own `X-Request-Id` when it sent a valid one (1–128 of `A–Z a–z 0–9 . _ : -`), else a new UUID. The service's log lines for the request carry it.",
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  },
  'Idempotent-Replayed': {
    description:
      '`true` when this is the stored response of an earlier request with the same `Idempotency-Key`, method, path and body (nothing was done again); absent otherwise.',
    required: false,
    schema: { type: 'string', enum: ['true'] },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Adds the headers the service sets on responses to every documented response: `X-Request-Id`
 * on all, `Idempotent-Replayed` on the 2xx and 4xx of POSTs (the statuses a replay can carry;
 * a 5xx is never stored). Done here, once, so no operation can miss them.
 */
function documentResponseHeaders(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const responses = item[method]?.responses ?? {};
      for (const [status, response] of Object.entries(responses)) {
        if (!response || '$ref' in response) continue;
        const headers: Record<string, HeaderObject> = {
          'X-Request-Id': RESPONSE_HEADERS['X-Request-Id'],
        };
        if (method === 'post' && /^[24]/.test(status)) {
          headers['Idempotent-Replayed'] = RESPONSE_HEADERS['Idempotent-Replayed'];
        }
        response.headers = { ...response.headers, ...headers };
      }
    }
  }
  return document;
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(API_TITLE)
    .setDescription(
      'Accounts, deposits, withdrawals, transfers and payments with cashback over an ' +
        'append-only ledger. Money is in integer minor units; times are epoch milliseconds. ' +
        'Errors are application/problem+json with a stable `code`.\n\n' +
        'The examples fit together from top to bottom on a fresh database: POST /accounts ' +
        'opens `acc-alice` (and, with its second example, `acc-bob`), the movements use them, ' +
        'and the first payment is `payment1`. After a movement, GET /transactions/{transactionId} ' +
        'is filled in with its `transactionId` (OpenAPI links).',
    )
    .setVersion(API_VERSION)
    .addTag('health', 'Liveness and database reachability')
    .addTag('accounts', 'Open accounts and read balances')
    .addTag('ledger', 'Move money and read the ledger')
    .addTag('payments', 'Payments with scheduled cashback')
    .addTag('audit', 'Verify the whole ledger')
    .addTag('statements', 'Account statements for a time range, as JSON, CSV or NDJSON')
    .addTag('metrics', 'Prometheus metrics for monitoring')
    .addTag('holds', 'Two-phase movements: authorize now, capture or void later')
    .build();
  return documentResponseHeaders(SwaggerModule.createDocument(app, config));
}

/** Swagger UI at /docs, the OpenAPI JSON at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: `${API_TITLE} — Swagger UI`,
    customJsStr: SWAGGER_UI_FOLLOW_LINKS_JS,
    swaggerOptions: { displayRequestDuration: true, tryItOutEnabled: false },
  });
}
