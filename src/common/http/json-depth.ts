import type { NextFunction, Request, Response } from 'express';
import { DomainException } from '../errors/domain.exception';

/**
 * No request body of this API nests deeper than two levels. A body nested thousands of levels
 * deep is valid JSON (V8 parses it without recursion), but class-transformer and the validator
 * walk it recursively and overflow the stack, which would surface as a 500. Refuse it first.
 */
export const MAX_JSON_DEPTH = 32;

/** Depth of a parsed JSON value (a scalar is 0, `[]` and `{}` are 1), counted without recursion. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (child !== null && typeof child === 'object')
        stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/** Express middleware, placed right after the JSON body parser. */
export function rejectDeepJson(req: Request, _res: Response, next: NextFunction): void {
  if (jsonDepthExceeds(req.body, MAX_JSON_DEPTH)) {
    next(
      new DomainException(
        'VALIDATION_FAILED',
        `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`,
      ),
    );
    return;
  }
  next();
}
