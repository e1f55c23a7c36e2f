import { hostname } from 'node:os';
import { DynamicModule, INestApplicationContext, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { REWIND_CONFIG, RewindConfig, withRewindConfig } from '@rewind/config';
import { loadOrCreateRedactionKey } from '@rewind/redaction';
import { CredentialVault } from '@rewind/scaleout';
import type { CaptureTaskLogger } from '@rewind/capture-facts';
import { RunningRecorderService, runningRecorder } from './recorder-service';
import type { RecorderServiceOptions } from './recorder-options';
import { RecorderModule } from './recorder.module';
import { RunSignalBoard } from './run-signals';
import { BullmqSchedulerOptions, bullmqScheduler } from './schedulers';
import { taskRunners } from './task-runners';

/** What starting a recorder needs: the configuration and the resolved service URLs. */
export interface RecorderRuntime {
  config: RewindConfig;
  databaseUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export const MOLTSTATION_SLUGS = ['shellrunners', 'flappybots'];

/** A leveled logger on stderr: warnings and errors always, info lines when `verbose`. */
export function recorderLog(log: (line: string) => void, verbose: boolean): CaptureTaskLogger {
  return {
    info: (m) => (verbose ? log(`recorder ${m}`) : undefined),
    warn: (m) => log(`recorder warning: ${m}`),
    error: (m) => log(`recorder error: ${m}`),
  };
}

export interface StartedRecorder {
  service: RunningRecorderService;
  close(): Promise<void>;
}

export interface RecordingOptions {
  verbose: boolean;
  instance?: string;
  port?: number;
  rgsSessionTtlMs?: number;
}

/**
 * Closes the credential vault of the runs' signals at shutdown: by then the tasks (module destroy) and the
 * Recorder (before shutdown) that read and write it are closed.
 */
@Injectable()
class VaultCloser implements OnApplicationShutdown {
  constructor(@Inject(CredentialVault) private readonly vault: CredentialVault) {}
  onApplicationShutdown(): Promise<void> {
    return this.vault.close();
  }
}

@Module({})
export class RecordingModule {}

@Module({})
class RecordingVaultModule {}

/**
 * The recorder of this installation, from the configuration — the one composition root of the recorder
 * process, used by apps/recorder, `rewind recorder` and `rewind up`/`demo`: the recording proxy on
 * REWIND_PROXY_PORT (and each platform at the root of REWIND_PROXY_PORT_<PLATFORM>) in front of the configured upstreams, spectators and pollers shared with every other
 * recorder process through the BullMQ capture queue (REWIND_CAPTURE_QUEUE, REWIND_CAPTURE_CONCURRENCY),
 * the runs' credentials mirrored (encrypted) to Redis for them.
 *
 * RecorderModule takes its options from REWIND_CONFIG (the application imports RewindConfigModule:
 * `withRewindConfig`); only the capture queue's registration is made from `config` when the module is defined
 * (its name is a Nest token, its worker options are class metadata) — `config` is the same validated object
 * RewindConfigModule is given. `release` stops what a start that failed half-way had opened (there is no
 * application to close then).
 */
export function recordingModule(runtime: RecorderRuntime, o: RecordingOptions): { module: DynamicModule; release(): Promise<void> } {
  const log = recorderLog(runtime.log, o.verbose);
  const instance = o.instance ?? `${hostname()}-${process.pid}`;
  const capture: BullmqSchedulerOptions = {
    redisUrl: runtime.redisUrl,
    holder: instance,
    concurrency: runtime.config.captureConcurrency,
    queueName: runtime.config.captureQueue,
    log,
  };
  const opened: { vault?: CredentialVault } = {};
  const secretOf = (config: RewindConfig): Buffer => (config.redactionKeyHex ? Buffer.from(config.redactionKeyHex, 'hex') : loadOrCreateRedactionKey(config.dataDir));
  const vaultModule: DynamicModule = {
    module: RecordingVaultModule,
    providers: [
      {
        provide: CredentialVault,
        inject: [REWIND_CONFIG],
        useFactory: (config: RewindConfig) => (opened.vault = new CredentialVault({ redis: urlOf(config.redisUrl, 'REDIS_URL'), secret: secretOf(config), log })),
      },
      VaultCloser,
    ],
    exports: [CredentialVault],
  };
  const recorder = RecorderModule.forRootAsync({
    imports: [vaultModule],
    inject: [REWIND_CONFIG, CredentialVault],
    useFactory: (config: RewindConfig, vault: CredentialVault): RecorderServiceOptions => {
      const signals = new RunSignalBoard(vault, log);
      return {
        databaseUrl: urlOf(config.databaseUrl, 'DATABASE_URL'),
        proxyPort: o.port ?? config.proxyPort,
        // REWIND_PROXY_PORT_<PLATFORM>: 0 is "no such listener" here (for the proxy, 0 would be a free port).
        proxyPlatformPorts: Object.fromEntries(Object.entries(config.proxyPlatformPorts).filter(([, port]) => port !== 0)),
        upstreams: config.upstreams,
        dataDir: config.dataDir,
        instance,
        redactionKey: secretOf(config),
        sealAfterMs: config.sealAfterMs,
        runIdleMs: config.runIdleMs,
        ...(o.rgsSessionTtlMs ? { rgsSessionTtlMs: o.rgsSessionTtlMs } : {}),
        ingestBatchSize: config.ingestBatchSize,
        ingestFlushMs: config.ingestFlushMs,
        admission: {
          enabled: config.admission.enabled,
          maxLagMs: config.admission.maxLagMs,
          maxLoopDelayMs: config.admission.maxLoopDelayMs,
          maxBufferedShare: config.admission.maxBufferedPercent / 100,
          closeAfterMs: config.admission.closeAfterMs,
          reopenShare: config.admission.reopenPercent / 100,
          reopenAfterMs: config.admission.reopenAfterMs,
        },
        signals,
        scheduler: bullmqScheduler(capture),
        runners: taskRunners({ upstreams: config.upstreams, signals, spectateMaxSilenceMs: config.runIdleMs, ...(o.rgsSessionTtlMs ? { rgsSessionTtlMs: o.rgsSessionTtlMs } : {}) }),
        ...(config.spectateLive ? { discover: { slugs: MOLTSTATION_SLUGS } } : {}),
        log,
      };
    },
    captureQueue: capture,
  });
  return {
    module: { module: RecordingModule, imports: [vaultModule, recorder], exports: [recorder] },
    async release() {
      await RecorderModule.release(recorder);
      await opened.vault?.close();
    },
  };
}

function urlOf(url: string | undefined, name: string): string {
  if (!url) throw new Error(`the recorder needs ${name}; for the embedded local default run ./rewind recorder`);
  return url;
}

/** The configuration of a runtime, with the URLs of the services it resolved (the embedded ones, when not configured). */
export function runtimeConfig(runtime: { config: RewindConfig; databaseUrl: string; redisUrl: string }): RewindConfig {
  return { ...runtime.config, databaseUrl: runtime.databaseUrl, redisUrl: runtime.redisUrl };
}

/** `recordingModule` in an application context of its own (`close()` closes it). */
export async function startRecording(runtime: RecorderRuntime, o: RecordingOptions): Promise<StartedRecorder> {
  const { module, release } = recordingModule(runtime, o);
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(withRewindConfig([module], runtimeConfig(runtime)), { logger: ['error', 'warn'], abortOnError: false });
  } catch (e) {
    await release();
    throw e;
  }
  const service = runningRecorder(app);
  return { service, close: () => service.close() };
}
