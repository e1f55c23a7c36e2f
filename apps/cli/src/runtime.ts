import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { recordingModule, RecordingOptions, runtimeConfig } from '@rewind/capture';
import { apiModuleFromConfig, startApiModule } from '@rewind/api';
import type { INestApplication } from '@nestjs/common';
import { loadConfig, RewindConfig, withRewindConfig } from '@rewind/config';
import { RunningPipeline, startPipelineFromConfig } from '@rewind/pipeline';
import type { RelayLogger } from '@rewind/pipeline';
import { createPgPool, migrate, MIGRATIONS_DIR, redactUrl } from '@rewind/db';
import { ensureLocalServices, LocalServices } from '@rewind/local-services';
import { Pool } from 'pg';

export interface Runtime {
  config: RewindConfig;
  databaseUrl: string;
  redisUrl: string;
  services: LocalServices;
  log: (line: string) => void;
}

export const log = (line: string): void => {
  process.stderr.write(`rewind: ${line}\n`);
};

/**
 * The embedded default: the configured DATABASE_URL/REDIS_URL, or local servers under .rewind/
 * (started here, installed from Debian's packages when missing), with the schema migrated.
 */
export async function startRuntime(needs: { redis: boolean } = { redis: true }): Promise<Runtime> {
  const config = loadConfig();
  const services = await ensureLocalServices({
    dataDir: config.dataDir,
    postgres: !config.databaseUrl,
    redis: needs.redis && !config.redisUrl,
    log,
  });
  const databaseUrl = config.databaseUrl ?? (services.databaseUrl as string);
  const redisUrl = config.redisUrl ?? services.redisUrl ?? '';
  const pool = createPgPool(databaseUrl, { max: 2 });
  try {
    const result = await migrate(pool, MIGRATIONS_DIR, log);
    if (result.applied.length === 0) log(`database schema up to date (${result.alreadyApplied.length} migrations) at ${redactUrl(databaseUrl)}`);
  } finally {
    await pool.end();
  }
  return { config, databaseUrl, redisUrl, services, log };
}

export function openPool(runtime: Runtime, max = 10): Pool {
  return createPgPool(runtime.databaseUrl, { max });
}

const PIPELINE_START = Symbol('PIPELINE_START');

/** The outcome pipeline (relay + workers) as a provider: started at bootstrap, closed first on shutdown. */
@Injectable()
class PipelineHost implements OnApplicationBootstrap, OnModuleDestroy {
  private pipeline: RunningPipeline | undefined;
  private closed = false;
  constructor(@Inject(PIPELINE_START) private readonly start: () => Promise<RunningPipeline>) {}
  async onApplicationBootstrap(): Promise<void> {
    if (!this.closed) this.pipeline = await this.start();
  }
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await this.pipeline?.close();
  }
}

@Module({})
class LocalPipelineModule {}

/**
 * What `rewind up` and `rewind demo` run next to the API, in the same Nest application (its close stops
 * them in order): the recorder (`recordingModule`, as apps/recorder) and the outcome pipeline.
 * `release` stops what a start that failed half-way had opened.
 */
export function serviceModules(runtime: Runtime, o: { recorder: RecordingOptions; pipelineLog: RelayLogger }): { imports: DynamicModule[]; release(): Promise<void> } {
  const recording = recordingModule(runtime, o.recorder);
  // The pipeline runs as its own Nest application context of PipelineModule (startPipelineFromConfig), hosted by a
  // provider of this application: the API registers the same queue names producer-only with BullModule and has its
  // own DbModule, so the pipeline's BullModule/DbModule need a container of their own (docs/architecture.md).
  const pipeline: DynamicModule = {
    module: LocalPipelineModule,
    providers: [{ provide: PIPELINE_START, useValue: () => startPipelineFromConfig(runtime, o.pipelineLog) }, PipelineHost],
  };
  return { imports: [recording.module, pipeline], release: () => recording.release() };
}

/**
 * `rewind up` and `rewind demo`: one Nest application on the API's port — RewindConfigModule with the runtime's
 * configuration (the embedded services' URLs filled in), the API configured from it (`apiModuleFromConfig`,
 * local keys when none are configured) and `serviceModules`. Its close stops them in order; a start that
 * fails half-way releases what it had opened.
 */
export async function startLocalApp(runtime: Runtime, o: { recorder: RecordingOptions; pipelineLog: RelayLogger }): Promise<INestApplication> {
  const services = serviceModules(runtime, o);
  const root = withRewindConfig([apiModuleFromConfig({ local: true, logger: false }), ...services.imports], runtimeConfig(runtime));
  return startApiModule(root, { port: runtime.config.apiPort, logger: false, shutdownHooks: false }).catch(async (e: unknown) => {
    await services.release();
    throw e;
  });
}
