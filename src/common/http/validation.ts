import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidationFailedException } from '../errors/domain.exception';
import { FieldError } from '../errors/error-codes';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field: field || 'body',
      message: message.replace(
        /^an unknown value was passed to the validate function$/,
        'the body must be a JSON object',
      ),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * The one ValidationPipe: unknown fields are rejected (not silently dropped), values are never
 * coerced between types (a string "10" is not an amount), and failures name each field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedException(flatten(errors)),
  });
}
