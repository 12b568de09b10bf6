import { ValidationOptions, registerDecorator } from 'class-validator';

/**
 * The active ISO 4217 currency codes, as the ICU data of this Node.js knows them
 * (`Intl.supportedValuesOf('currency')`: 162 codes on Node 20 with ICU 78). Withdrawn codes
 * (`DEM`), test and "no currency" codes (`XTS`, `XXX`) and made-up ones (`XYZ`) are not in it.
 * The list follows the ICU that Node.js ships, so an upgrade that adds a new currency adds it
 * here without a code change.
 */
export const ISO_4217_CODES: readonly string[] = Intl.supportedValuesOf('currency');
const CODES = new Set(ISO_4217_CODES);

export function isIso4217Currency(value: unknown): value is string {
  return typeof value === 'string' && CODES.has(value);
}

/** class-validator rule: the value is an active ISO 4217 code, upper case (`USD`, `EUR`). */
export function IsIso4217Currency(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIso4217Currency',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: ({ property }) =>
          `${property} must be an active ISO 4217 currency code in upper case, such as USD or EUR`,
        ...options,
      },
      validator: { validate: isIso4217Currency },
    });
}
