import type { ConfigService } from '@nestjs/config';
import { Environment } from './environment';

/**
 * Typed, read-only access to the validated environment. The only reader of configuration:
 * nothing else touches process.env (the TypeORM CLI data source excepted).
 */
export class AppConfig {
  constructor(private readonly env: Readonly<Environment>) {}

  get<K extends keyof Environment>(key: K): Environment[K] {
    return this.env[key];
  }

  /** Copies the values @nestjs/config validated at boot. */
  static fromConfigService(config: ConfigService): AppConfig {
    const keys = Object.keys(new Environment()) as (keyof Environment)[];
    const values = Object.fromEntries(keys.map((key) => [key, config.get(key)]));
    return new AppConfig(values as unknown as Environment);
  }
}
