import { Controller, Get, HttpCode, HttpException, HttpStatus } from '@nestjs/common';
import { HealthService, Readiness } from './health.service';

/** Liveness (the process answers) and readiness (Postgres, Redis and the pipeline's queues answer), on @nestjs/terminus. */
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @HttpCode(200)
  live(): Promise<{ status: 'ok' }> {
    return this.health.live();
  }

  @Get('ready')
  async ready(): Promise<Readiness> {
    const readiness = await this.health.check();
    if (readiness.status !== 'ok') throw new HttpException(readiness, HttpStatus.SERVICE_UNAVAILABLE);
    return readiness;
  }

  @Get()
  async summary(): Promise<Readiness> {
    return this.ready();
  }
}
