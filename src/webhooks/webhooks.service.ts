import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { DomainException } from '../common/errors/domain.exception';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/http/pagination';
import { AppConfig } from '../config/app-config';
import { EVENT_TYPES } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { IdempotencyService } from '../idempotency/idempotency.service';
import {
  CreatedWebhookEndpointDto,
  CreateWebhookEndpointDto,
  DeliveryDto,
  WebhookEndpointDto,
} from './dto/webhook.dto';
import { checkWebhookUrl } from './url-policy';
import { DeliveryRow, EndpointRow, WebhooksRepository } from './webhooks.repository';

/** Webhook endpoints: registration (URL policy, secret), reads and deletion. */
@Injectable()
export class WebhooksService {
  private readonly allowPrivate: boolean;

  constructor(
    private readonly endpoints: WebhooksRepository,
    private readonly events: EventsService,
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.allowPrivate = config.get('WEBHOOK_ALLOW_PRIVATE_URLS');
  }

  /**
   * Registers an endpoint. It receives the events committed from now on: its feed cursor
   * starts at the horizon (events of transactions still running when it is created included).
   */
  async create(dto: CreateWebhookEndpointDto): Promise<CreatedWebhookEndpointDto> {
    await checkWebhookUrl(dto.url, this.allowPrivate);
    const cursor = await this.events.currentHorizon();
    const endpoint: EndpointRow = {
      endpointId: `we_${randomBytes(12).toString('hex')}`,
      url: dto.url,
      eventTypes: dto.eventTypes ?? null,
      secret: `whsec_${randomBytes(24).toString('base64')}`,
      createdAt: this.clock.now(),
      cursor,
    };
    return this.idempotency.run(
      (manager) => this.endpoints.insert(manager, endpoint),
      () => ({ ...toEndpointDto(endpoint), secret: endpoint.secret }),
    );
  }

  async list(query: PageQueryDto): Promise<Page<WebhookEndpointDto>> {
    const after = query.cursor ? decodeCursor<[number, string]>(query.cursor, 'ns') : undefined;
    const rows = await this.endpoints.page(query.limit + 1, after);
    return toPage(rows, query.limit, toEndpointDto, (e) => [e.createdAt, e.endpointId]);
  }

  async get(endpointId: string): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.load(endpointId));
  }

  async delete(endpointId: string): Promise<void> {
    if (!(await this.endpoints.delete(endpointId))) throw notFound(endpointId);
  }

  async deliveries(endpointId: string, query: PageQueryDto): Promise<Page<DeliveryDto>> {
    await this.load(endpointId);
    const after = query.cursor ? decodeCursor<[string]>(query.cursor, 'd')[0] : undefined;
    const rows = await this.endpoints.deliveries(endpointId, query.limit + 1, after);
    return toPage(rows, query.limit, toDeliveryDto, (d) => [d.seq]);
  }

  private async load(endpointId: string): Promise<EndpointRow> {
    const endpoint = await this.endpoints.findById(endpointId);
    if (!endpoint) throw notFound(endpointId);
    return endpoint;
  }
}

function notFound(endpointId: string): DomainException {
  return new DomainException(
    'WEBHOOK_ENDPOINT_NOT_FOUND',
    `Webhook endpoint ${endpointId} does not exist.`,
  );
}

function toEndpointDto(this: void, endpoint: EndpointRow): WebhookEndpointDto {
  return {
    endpointId: endpoint.endpointId,
    url: endpoint.url,
    eventTypes: (endpoint.eventTypes ?? [...EVENT_TYPES]) as WebhookEndpointDto['eventTypes'],
    createdAt: endpoint.createdAt,
  };
}

function toDeliveryDto(this: void, delivery: DeliveryRow): DeliveryDto {
  return {
    eventId: delivery.eventId,
    attempts: delivery.attempts,
    status: delivery.status,
    lastStatusCode: delivery.lastStatusCode,
    lastAttemptAt: delivery.lastAttemptAt,
    nextAttemptAt: delivery.status === 'PENDING' ? delivery.nextAttemptAt : null,
  };
}
