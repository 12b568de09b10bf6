import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options';

// --- process.env fence: the TypeORM CLI (migration:generate) loads this file directly and
// --- cannot go through the validated AppConfig. Nothing else reads process.env.
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('migration:generate needs DATABASE_URL (a database with all migrations applied)');
}

/** Used only by `npm run migration:generate`, on the compiled build. */
export default new DataSource({
  ...buildDataSourceOptions(url, { size: 2 }),
  entities: [join(__dirname, '..', '**', '*.entity.js')],
});
