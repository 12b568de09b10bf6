import { EntityManager, QueryFailedError } from 'typeorm';

/**
 * A statement sent as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of on every call. Only for the hot statements of the write path, where
 * the bench showed planning costing more than executing.
 */
export interface PreparedStatement {
  /** Unique per distinct SQL text. */
  readonly name: string;
  readonly text: string;
}

interface PgClient {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/**
 * Runs `statement` on the connection of a running unit of work (the manager TransactionRunner
 * hands out). Errors keep TypeORM's QueryFailedError shape, so SQLSTATE handling is unchanged.
 */
export async function queryPrepared<R>(
  manager: EntityManager,
  statement: PreparedStatement,
  values: unknown[],
): Promise<R[]> {
  const queryRunner = manager.queryRunner;
  if (!queryRunner || !queryRunner.isTransactionActive) {
    throw new Error('queryPrepared needs the manager of a running unit of work');
  }
  const client = (await queryRunner.connect()) as PgClient;
  try {
    return (await client.query<R>({ name: statement.name, text: statement.text, values })).rows;
  } catch (error) {
    throw new QueryFailedError(statement.text, values, error as Error);
  }
}
