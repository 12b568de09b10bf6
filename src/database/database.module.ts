import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { buildDataSourceOptions, configuredSessionTimeouts } from './data-source-options';
import { DatabaseLocation } from './database-location';
import { runMigrations } from './migrate';
import { TransactionRunner } from './transaction-runner';

@Global()
@Module({
  providers: [
    {
      provide: DatabaseLocation,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => DatabaseLocation.resolve(config),
    },
  ],
  exports: [DatabaseLocation],
})
class DatabaseLocationModule {}

/**
 * Connects to PostgreSQL (starting the embedded one when DATABASE_URL is unset), applies
 * pending migrations before the app serves, and provides the TransactionRunner.
 */
@Global()
@Module({
  imports: [
    DatabaseLocationModule,
    TypeOrmModule.forRootAsync({
      inject: [DatabaseLocation, AppConfig],
      useFactory: (location: DatabaseLocation, config: AppConfig) => ({
        ...buildDataSourceOptions(location.url, {
          size: config.get('DB_POOL_SIZE'),
          timeouts: configuredSessionTimeouts(config),
        }),
        autoLoadEntities: true,
        retryAttempts: 0,
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        await runMigrations(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [TransactionRunner],
  exports: [TransactionRunner],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(DatabaseLocation) private readonly location: DatabaseLocation,
  ) {}

  /** The pool closes before the embedded cluster stops, whatever order Nest calls hooks in. */
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.location.stop();
  }
}
