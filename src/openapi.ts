import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export const API_TITLE = 'Banking Ledger API';
export const API_VERSION = '1.0.0';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(API_TITLE)
    .setDescription(
      'Accounts, deposits, withdrawals, transfers and payments with cashback over an ' +
        'append-only ledger. Money is in integer minor units; times are epoch milliseconds. ' +
        'Errors are application/problem+json with a stable `code`.',
    )
    .setVersion(API_VERSION)
    .addTag('health', 'Liveness and database reachability')
    .addTag('accounts', 'Open accounts and read balances')
    .addTag('ledger', 'Move money and read the ledger')
    .addTag('payments', 'Payments with scheduled cashback')
    .addTag('statements', 'Account statements for a time range, as JSON, CSV or NDJSON')
    .addTag('metrics', 'Prometheus metrics for monitoring')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs, the OpenAPI JSON at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: `${API_TITLE} — Swagger UI`,
    swaggerOptions: { displayRequestDuration: true, tryItOutEnabled: false },
  });
}
