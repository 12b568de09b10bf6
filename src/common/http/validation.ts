import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ValidationFailedException } from '../errors/domain.exception';
import { FieldError } from '../errors/error-codes';

/**
 * Constraints on a value's type. When one fails, the value's other rules (range, pattern)
 * were not broken by it, they just cannot apply: only the type rule is named.
 */
const TYPE_CONSTRAINTS = new Set([
  'isInt',
  'isString',
  'isNumber',
  'isBoolean',
  'isArray',
  'isObject',
  'isEnum',
  'isIn',
]);

function messagesOf(error: ValidationError, field: string): string[] {
  const constraints = error.constraints ?? {};
  const names = Object.keys(constraints);
  if (names.length === 0) return [];
  if (error.value === undefined && !('whitelistValidation' in constraints)) {
    return [`${field} is required`];
  }
  const typeRules = names.filter((name) => TYPE_CONSTRAINTS.has(name));
  return (typeRules.length > 0 ? typeRules : names).map((name) =>
    constraints[name].replace(
      /^an unknown value was passed to the validate function$/,
      'the body must be a JSON object',
    ),
  );
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = messagesOf(error, field || 'body').map((message) => ({
      field: field || 'body',
      message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const knownProperties = new WeakMap<object, ReadonlySet<string>>();

/** The properties a DTO class declares rules for (its own and inherited). */
function propertiesOf(metatype: new () => unknown): ReadonlySet<string> {
  let known = knownProperties.get(metatype);
  if (!known) {
    known = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(metatype, '', true, false)
        .map((metadata) => metadata.propertyName),
    );
    knownProperties.set(metatype, known);
  }
  return known;
}

/**
 * The one ValidationPipe: unknown fields are rejected (not silently dropped), values are never
 * coerced between types (a string "10" is not an amount), and failures name each field with
 * the one rule its value broke (a missing field: "is required").
 *
 * Unknown fields are checked on the plain object first: class-transformer skips keys that
 * name a member of Object.prototype (`toString`, `constructor`, `__proto__`, …), so the
 * whitelist would never see them and they would be dropped without a word.
 */
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => new ValidationFailedException(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype, type } = metadata;
    if (type === 'body' && typeof metatype === 'function' && metatype !== Object) {
      const known = propertiesOf(metatype as new () => unknown);
      // A body class that declares no field (freeze, unfreeze, close): `{}` or no body at all.
      if (known.size === 0) return emptyBody(value);
    }
    if (
      (type === 'body' || type === 'query') &&
      typeof metatype === 'function' &&
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value)
    ) {
      const known = propertiesOf(metatype as new () => unknown);
      const unknown = Object.keys(value).filter((key) => !known.has(key));
      if (unknown.length > 0 && known.size > 0) {
        throw new ValidationFailedException(
          unknown.map((key) => ({ field: key, message: `property ${key} should not exist` })),
        );
      }
    }
    return super.transform(value, metadata);
  }
}

function emptyBody(value: unknown): object {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationFailedException([
      { field: 'body', message: 'the body must be a JSON object' },
    ]);
  }
  const keys = Object.keys(value);
  if (keys.length > 0) {
    throw new ValidationFailedException(
      keys.map((key) => ({ field: key, message: `property ${key} should not exist` })),
    );
  }
  return {};
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe();
}
