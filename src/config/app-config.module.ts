import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig } from './app-config';
import { validateEnvironment } from './environment';

/** Loads and validates the environment once, at boot; exposes it as the typed AppConfig. */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ validate: validateEnvironment, cache: true })],
  providers: [
    {
      provide: AppConfig,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => AppConfig.fromConfigService(config),
    },
  ],
  exports: [AppConfig],
})
export class AppConfigModule {}
