import { ValidateIf } from 'class-validator';

/**
 * Optional body field: may be absent, but an explicit `null` is validated (and so rejected)
 * like any other wrong value. class-validator's IsOptional would let `null` through.
 */
export function IsAbsentOr(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
