import { Injectable } from '@nestjs/common';

/**
 * The service's only source of "now" (epoch ms). Production uses the system clock; tests
 * replace this provider with a controllable one to move time without sleeping.
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}
