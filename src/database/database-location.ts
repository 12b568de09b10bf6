import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import {
  EmbeddedPostgresHandle,
  redactDatabaseUrl,
  startEmbeddedPostgres,
} from './embedded-postgres';

/** Where the service's database is: the configured DATABASE_URL, or an embedded cluster. */
export class DatabaseLocation {
  constructor(
    readonly url: string,
    private readonly embedded?: EmbeddedPostgresHandle,
  ) {}

  async stop(): Promise<void> {
    await this.embedded?.stop();
  }

  static async resolve(
    config: AppConfig,
    logger = new Logger('Database'),
  ): Promise<DatabaseLocation> {
    const configured = config.get('DATABASE_URL');
    if (configured) {
      logger.log(`Using PostgreSQL at ${redactDatabaseUrl(configured)} (DATABASE_URL)`);
      return new DatabaseLocation(configured);
    }
    const handle = await startEmbeddedPostgres({
      dataDir: config.get('EMBEDDED_PG_DIR'),
      port: config.get('EMBEDDED_PG_PORT'),
      log: (m) => logger.log(m),
    });
    logger.log(
      `Using embedded PostgreSQL at ${redactDatabaseUrl(handle.url)} (data in ${handle.dataDir})`,
    );
    return new DatabaseLocation(handle.url, handle);
  }
}
