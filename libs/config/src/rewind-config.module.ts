import { DynamicModule, Inject, Module } from '@nestjs/common';
import { ConfigModule, ConfigService, registerAs } from '@nestjs/config';
import { loadConfig, RewindConfig } from './config';

/** The injection token of the validated `RewindConfig`: `@Inject(REWIND_CONFIG)` or `@InjectRewindConfig()`. */
export const REWIND_CONFIG = Symbol('RewindConfig');
/** The `ConfigService` namespace the configuration is registered under (`config.get('rewind')`). */
export const REWIND_CONFIG_NAMESPACE = 'rewind';

export const InjectRewindConfig = (): ParameterDecorator => Inject(REWIND_CONFIG);

export interface RewindConfigModuleOptions {
  /** An already validated configuration (the CLI loads it before it starts Nest apps); default: `loadConfig()`. */
  config?: RewindConfig;
  /** The environment to validate instead of `process.env` (tests). */
  env?: Record<string, string | undefined>;
}

/**
 * Rewind's configuration for Nest applications, on `@nestjs/config`: the environment is validated once by the
 * zod schema behind `loadConfig` (a bad value stops the start with a `ConfigError` naming the variable and the
 * value) and registered as the `rewind` namespace; `REWIND_CONFIG` provides the typed `RewindConfig`. Global,
 * so feature modules inject it without importing this module. No `.env` file is read: the environment is the
 * one source, as for the processes started without Nest.
 */
@Module({})
export class RewindConfigModule {
  static forRoot(options: RewindConfigModuleOptions = {}): DynamicModule {
    const rewind = registerAs(REWIND_CONFIG_NAMESPACE, (): RewindConfig => options.config ?? loadConfig(options.env));
    return {
      module: RewindConfigModule,
      global: true,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [rewind], cache: true })],
      providers: [{ provide: REWIND_CONFIG, inject: [ConfigService], useFactory: (config: ConfigService) => config.getOrThrow<RewindConfig>(REWIND_CONFIG_NAMESPACE) }],
      exports: [REWIND_CONFIG, ConfigModule],
    };
  }
}

@Module({})
export class RewindProcessModule {}

/**
 * A process's root module: RewindConfigModule (the configuration, validated once; `config` when the caller has it
 * already) and the process's modules, which take their options from REWIND_CONFIG in their factories.
 */
export function withRewindConfig(modules: DynamicModule[], config?: RewindConfig): DynamicModule {
  return { module: RewindProcessModule, imports: [RewindConfigModule.forRoot(config ? { config } : {}), ...modules] };
}
