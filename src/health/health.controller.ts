import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { HealthDto } from './health.dto';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly database: TypeOrmHealthIndicator) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness and database reachability',
    description: 'Pings PostgreSQL with a 1.5 s timeout. 503 when the database does not answer.',
  })
  @ApiOkResponse({ type: HealthDto, example: { status: 'ok', database: 'up' } })
  @ApiServiceUnavailableResponse({
    type: HealthDto,
    example: { status: 'error', database: 'down' },
  })
  async check(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthDto> {
    const result = await Promise.resolve(
      this.database.pingCheck('database', { timeout: 1500 }),
    ).catch(() => ({ database: { status: 'down' } }));
    if (result.database?.status === 'up') return { status: 'ok', database: 'up' };
    void res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'error', database: 'down' };
  }
}
