import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ValidationFailedException } from '../errors/domain.exception';
import { toIntegerIfNumeric } from './query-transforms';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export class PageQueryDto {
  @ApiPropertyOptional({
    // No `default` in the schema: Swagger UI would pre-fill it, and optional query parameters
    // start empty there. The description says it.
    description: `Page size, 1–${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when absent.`,
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    type: 'integer',
  })
  @IsOptional()
  @Transform(toIntegerIfNumeric)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = DEFAULT_PAGE_SIZE;

  @ApiPropertyOptional({
    description:
      "Opaque cursor: the previous page's `nextCursor`. Leave it empty for the first page.",
    // No `example`: Swagger UI would pre-fill it, and a made-up cursor is refused with 400.
    maxLength: 512,
    pattern: '^[A-Za-z0-9_-]+$',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a cursor this service issued' })
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors are base64url JSON tuples of the sort key of the last row of a page. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor into a tuple of the given shape ('n' integer ≥ 0, 's' string, 'd' string of
 * digits such as a BIGSERIAL id), or rejects
 * it as a validation failure naming the `cursor` field.
 */
export function decodeCursor<T extends (string | number)[]>(cursor: string, shape: string): T {
  const invalid = () =>
    new ValidationFailedException([
      { field: 'cursor', message: 'cursor is not a cursor this service issued' },
    ]);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== shape.length) throw invalid();
  const ok = [...shape].every((kind, i) => {
    const item: unknown = value[i];
    if (kind === 'n') return Number.isSafeInteger(item) && (item as number) >= 0;
    if (kind === 'd') return typeof item === 'string' && /^\d{1,18}$/.test(item);
    return typeof item === 'string' && item.length <= 128;
  });
  if (!ok) throw invalid();
  return value as T;
}

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<Row, Out>(
  rows: Row[],
  limit: number,
  map: (row: Row) => Out,
  cursorKey: (row: Row) => (string | number)[],
): Page<Out> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    data: pageRows.map(map),
    nextCursor: hasMore && last !== undefined ? encodeCursor(cursorKey(last)) : null,
  };
}

export class PageMetaDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Cursor of the next page; null on the last page.',
    example: null,
  })
  nextCursor!: string | null;
}
