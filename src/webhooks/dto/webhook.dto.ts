import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { PageMetaDto } from '../../common/http/pagination';
import { EVENT_TYPES, type EventType } from '../../events/event-types';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../webhooks.repository';

export class CreateWebhookEndpointDto {
  @ApiProperty({
    example: 'https://203.0.113.10/ledger',
    maxLength: 2048,
    description:
      'http or https. Loopback, private and link-local addresses are refused (URL_NOT_ALLOWED).',
  })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({
    enum: EVENT_TYPES,
    isArray: true,
    example: ['transaction.posted', 'payment.cashback_credited'],
    description: 'The event types to deliver; all when absent.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, {
    each: true,
    message: `each of eventTypes must be one of ${EVENT_TYPES.join(', ')}`,
  })
  eventTypes?: EventType[];
}

export class WebhookEndpointDto {
  @ApiProperty({ example: 'we_3f9c2a7d1e8b4c60a5d7e2f1' })
  endpointId!: string;

  @ApiProperty({ example: 'https://203.0.113.10/ledger' })
  url!: string;

  @ApiProperty({ enum: EVENT_TYPES, isArray: true, example: ['transaction.posted'] })
  eventTypes!: EventType[];

  @ApiProperty({ example: 1763700000000, type: 'integer' })
  createdAt!: number;
}

export class CreatedWebhookEndpointDto extends WebhookEndpointDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The signing secret (Standard Webhooks: `whsec_` + base64). Shown only in this response.',
  })
  secret!: string;
}

export class WebhookEndpointPageDto extends PageMetaDto {
  @ApiProperty({ type: [WebhookEndpointDto] })
  data!: WebhookEndpointDto[];
}

export class EndpointIdParamDto {
  @ApiProperty({ example: 'we_3f9c2a7d1e8b4c60a5d7e2f1' })
  @IsString()
  endpointId!: string;
}

export class DeliveryDto {
  @ApiProperty({ example: '1042' })
  eventId!: string;

  @ApiProperty({ example: 1, type: 'integer' })
  attempts!: number;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'DELIVERED' })
  status!: DeliveryStatus;

  @ApiProperty({ type: 'integer', nullable: true, example: 200 })
  lastStatusCode!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, example: 1763700000700 })
  lastAttemptAt!: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: null,
    description: 'When PENDING: the time of the next attempt; else null.',
  })
  nextAttemptAt!: number | null;
}

export class DeliveryPageDto extends PageMetaDto {
  @ApiProperty({ type: [DeliveryDto] })
  data!: DeliveryDto[];
}
