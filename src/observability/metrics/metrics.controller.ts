import { Controller, Get, Header, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiInternalServerErrorResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ProblemDto } from '../../common/http/api-docs';
import { PROBLEM_CONTENT_TYPE } from '../../common/errors/problem';
import { MetricsService } from './metrics.service';

const EXAMPLE = [
  '# HELP http_requests_total HTTP requests served, by method, route pattern and status.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="POST",route="/transfers",status="201"} 3',
  '',
].join('\n');

/** GET /metrics: Prometheus text format. Reads counters only, never the database. */
@ApiTags('metrics')
@ApiExtraModels(ProblemDto)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Prometheus text exposition format 0.0.4: HTTP requests and latency by method, route ' +
      'pattern and status; ledger entries by type; cashbacks settled; transaction retries by ' +
      'SQLSTATE; idempotent replays; database pool size, idle and waiting; process metrics.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Success',
    content: { 'text/plain': { schema: { type: 'string' }, example: EXAMPLE } },
  })
  @ApiInternalServerErrorResponse({
    description: '`INTERNAL_ERROR`',
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: { $ref: getSchemaPath(ProblemDto) },
        examples: {
          INTERNAL_ERROR: {
            value: {
              type: 'about:blank',
              title: 'Internal Server Error',
              status: 500,
              code: 'INTERNAL_ERROR',
              detail: 'An unexpected error occurred.',
            },
          },
        },
      },
    },
  })
  async scrape(@Res({ passthrough: true }) res: FastifyReply): Promise<string> {
    const { contentType, body } = await this.metrics.scrape();
    void res.type(contentType);
    return body;
  }
}
