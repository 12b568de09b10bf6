import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * Query strings arrive as strings. Only plain decimal integers (digits, maybe after a minus)
 * become numbers, so `-1` breaks the range rule rather than the type rule; anything else
 * ("1e3", "0x10", " 5", "5.0", arrays from repeated params) is left as it came, so the
 * validators reject it instead of a lenient conversion accepting it.
 */
export function toIntegerIfNumeric({ value }: { value: unknown }): unknown {
  if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) {
    return Number(value);
  }
  return value;
}

/**
 * An optional epoch-millisecond query parameter (`at`, `timestamp`): digits only, 0 … 2^53−1,
 * documented in OpenAPI with those bounds; the validation message names the parameter.
 */
export function EpochMillisQuery(name: string, description: string): PropertyDecorator {
  return applyDecorators(
    // No `example`: Swagger UI pre-fills "Try it out" with it, and an optional filter must
    // start empty (a fixed time in the past answers 404 or an empty list).
    ApiPropertyOptional({
      description,
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
    }),
    IsOptional(),
    Transform(toIntegerIfNumeric),
    IsInt({ message: `${name} must be an integer epoch-millisecond time` }),
    Min(0),
    Max(Number.MAX_SAFE_INTEGER),
  );
}
