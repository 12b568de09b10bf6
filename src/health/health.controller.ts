import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DatabaseProbe } from './database-probe';
import { HealthDto } from './health.dto';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly database: DatabaseProbe) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness and database reachability',
    description:
      'Pings PostgreSQL on a connection of its own (not the request pool), with a 1 s timeout to connect and 1 s to answer. 200 whenever the database answers, however busy the service is; 503 when it does not.',
  })
  @ApiOkResponse({ type: HealthDto, example: { status: 'ok', database: 'up' } })
  @ApiServiceUnavailableResponse({
    type: HealthDto,
    example: { status: 'error', database: 'down' },
  })
  async check(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthDto> {
    if (await this.database.isUp()) return { status: 'ok', database: 'up' };
    void res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'error', database: 'down' };
  }
}
