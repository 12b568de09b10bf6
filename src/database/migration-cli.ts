import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { buildDataSourceOptions } from './data-source-options';
import { DatabaseLocation } from './database-location';
import { revertLastMigration, runMigrations } from './migrate';

/**
 * `npm run migration:run` / `migration:revert`: the same database selection and the same
 * advisory-locked code path as the service's start-up.
 */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert') {
    throw new Error('usage: migration-cli.js run|revert');
  }
  const logger = new Logger('Migrations');
  const config = new AppConfig(validateEnvironment(process.env));
  const location = await DatabaseLocation.resolve(config, logger);
  const dataSource = await new DataSource(
    buildDataSourceOptions(location.url, { size: 2 }),
  ).initialize();
  try {
    if (command === 'run') {
      const applied = await runMigrations(dataSource);
      logger.log(
        applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}` : 'nothing to apply',
      );
    } else {
      await revertLastMigration(dataSource);
      logger.log('reverted the newest migration');
    }
  } finally {
    await dataSource.destroy();
    await location.stop();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
