import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags, type LinksObject } from '@nestjs/swagger';
import { ApiProblems, ApiSuccess } from '../common/http/api-docs';
import { Page, PageQueryDto } from '../common/http/pagination';
import {
  CreatedWebhookEndpointDto,
  CreateWebhookEndpointDto,
  DeliveryDto,
  DeliveryPageDto,
  EndpointIdParamDto,
  WebhookEndpointDto,
  WebhookEndpointPageDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

const ENDPOINT_EXAMPLE = {
  endpointId: 'we_3f9c2a7d1e8b4c60a5d7e2f1',
  url: 'https://203.0.113.10/ledger',
  eventTypes: ['transaction.posted', 'payment.cashback_credited'],
  createdAt: 1763700000000,
};
/** From a created endpoint to the operations on it (Swagger UI pre-fills its endpointId). */
const LINKS_TO_ENDPOINT: LinksObject = Object.fromEntries(
  (
    [
      ['GetWebhookEndpoint', 'WebhooksController_get', 'The endpoint, without its secret.'],
      ['GetDeliveries', 'WebhooksController_deliveries', "The endpoint's deliveries."],
      ['DeleteWebhookEndpoint', 'WebhooksController_delete', 'Deletes the endpoint.'],
    ] as const
  ).map(([name, operationId, description]) => [
    name,
    { operationId, parameters: { endpointId: '$response.body#/endpointId' }, description },
  ]),
);

const LIMIT_INVALID = {
  summary: 'limit below 1',
  request: { query: { limit: '0' } },
  errors: [{ field: 'limit', message: 'limit must not be less than 1' }],
};

/** POST/GET/DELETE /webhook-endpoints and an endpoint's deliveries. */
@ApiTags('webhooks')
@Controller('webhook-endpoints')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description:
      'Events committed from now on (of `eventTypes`, default all) are POSTed to `url` as JSON, at least once, in event order, with the Standard Webhooks headers `webhook-id` (the eventId), `webhook-timestamp` (epoch seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the secret). A 2xx within 10 s acknowledges; anything else is retried with exponential backoff for at least 24 h, then FAILED. The `secret` is shown only in this response.',
  })
  @ApiSuccess(
    201,
    CreatedWebhookEndpointDto,
    { ...ENDPOINT_EXAMPLE, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    LINKS_TO_ENDPOINT,
  )
  @ApiProblems(['VALIDATION_FAILED', 'MALFORMED_JSON', 'URL_NOT_ALLOWED'], {
    idempotent: true,
    invalid: {
      summary: 'eventTypes names an unknown type',
      request: {
        body: { url: 'https://203.0.113.10/ledger', eventTypes: ['account.deleted'] },
      },
      errors: [
        {
          field: 'eventTypes',
          message:
            'each of eventTypes must be one of account.created, account.updated, transaction.posted, payment.created, payment.cashback_credited, payment.refunded, hold.created, hold.captured, hold.voided, hold.expired',
        },
      ],
    },
  })
  create(@Body() dto: CreateWebhookEndpointDto): Promise<CreatedWebhookEndpointDto> {
    return this.webhooks.create(dto);
  }

  @Get()
  @ApiOperation({
    summary: 'List webhook endpoints',
    description: 'Oldest first. Without their secrets.',
  })
  @ApiSuccess(200, WebhookEndpointPageDto, { data: [ENDPOINT_EXAMPLE], nextCursor: null })
  @ApiProblems(['VALIDATION_FAILED'], { invalid: LIMIT_INVALID })
  list(@Query() query: PageQueryDto): Promise<Page<WebhookEndpointDto>> {
    return this.webhooks.list(query);
  }

  @Get(':endpointId/deliveries')
  @ApiOperation({
    summary: "An endpoint's deliveries",
    description:
      'In event order: PENDING (with the time of its next attempt), DELIVERED or FAILED, with the attempts made and the last status code (null when no HTTP answer came: timeout, refused connection).',
  })
  @ApiSuccess(200, DeliveryPageDto, {
    data: [
      {
        eventId: '1042',
        attempts: 3,
        status: 'DELIVERED',
        lastStatusCode: 200,
        lastAttemptAt: 1763700030000,
        nextAttemptAt: null,
      },
    ],
    nextCursor: null,
  })
  @ApiProblems(['VALIDATION_FAILED', 'WEBHOOK_ENDPOINT_NOT_FOUND'], {
    invalid: {
      ...LIMIT_INVALID,
      request: { path: { endpointId: ENDPOINT_EXAMPLE.endpointId }, query: { limit: '0' } },
    },
  })
  deliveries(
    @Param() params: EndpointIdParamDto,
    @Query() query: PageQueryDto,
  ): Promise<Page<DeliveryDto>> {
    return this.webhooks.deliveries(params.endpointId, query);
  }

  @Get(':endpointId')
  @ApiOperation({ summary: 'Get a webhook endpoint', description: 'Without its secret.' })
  @ApiSuccess(200, WebhookEndpointDto, ENDPOINT_EXAMPLE)
  @ApiProblems(['WEBHOOK_ENDPOINT_NOT_FOUND'])
  get(@Param() params: EndpointIdParamDto): Promise<WebhookEndpointDto> {
    return this.webhooks.get(params.endpointId);
  }

  @Delete(':endpointId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a webhook endpoint',
    description: 'Stops its deliveries (pending ones are dropped) and forgets them.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(['WEBHOOK_ENDPOINT_NOT_FOUND'])
  async delete(@Param() params: EndpointIdParamDto): Promise<void> {
    await this.webhooks.delete(params.endpointId);
  }
}
