import { STATUS_CODES } from 'node:http';
import { ERROR_STATUS, ErrorCode, FieldError } from './error-codes';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 body every error response carries. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
  requestId?: string;
}

export function problem(
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
  status: number = ERROR_STATUS[code],
): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(errors ? { errors } : {}),
  };
}
