import { hostname } from 'node:os';
import type { RewindConfig } from '@rewind/config';
import { loadOrCreateRedactionKey } from '../redaction';
import { CredentialVault } from '../scaleout';
import type { CaptureTaskLogger } from '../tasks';
import { RunningRecorderService, startRecorderService } from './recorder-service';
import { RunSignalBoard } from './run-signals';
import { bullmqScheduler } from './schedulers';
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

/**
 * The recorder process of this installation, from the configuration: the recording proxy on
 * REWIND_PROXY_PORT in front of the configured upstreams, spectators and pollers shared with every other
 * recorder process through BullMQ, the runs' credentials mirrored (encrypted) to Redis for them.
 */
export async function startRecording(runtime: RecorderRuntime, o: { verbose: boolean; instance?: string; port?: number; rgsSessionTtlMs?: number }): Promise<StartedRecorder> {
  const { config } = runtime;
  const log = recorderLog(runtime.log, o.verbose);
  const key = config.redactionKeyHex ? Buffer.from(config.redactionKeyHex, 'hex') : loadOrCreateRedactionKey(config.dataDir);
  const instance = o.instance ?? `${hostname()}-${process.pid}`;
  const vault = new CredentialVault({ redis: runtime.redisUrl, secret: key, log });
  const signals = new RunSignalBoard(vault, log);
  try {
    const service = await startRecorderService({
      databaseUrl: runtime.databaseUrl,
      proxyPort: o.port ?? config.proxyPort,
      upstreams: config.upstreams,
      dataDir: config.dataDir,
      instance,
      redactionKey: key,
      sealAfterMs: config.sealAfterMs,
      runIdleMs: config.runIdleMs,
      ...(o.rgsSessionTtlMs ? { rgsSessionTtlMs: o.rgsSessionTtlMs } : {}),
      ingestBatchSize: config.ingestBatchSize,
      signals,
      scheduler: bullmqScheduler({ redisUrl: runtime.redisUrl, holder: instance, concurrency: config.captureConcurrency, queueName: config.captureQueue, log }),
      runners: taskRunners({ upstreams: config.upstreams, signals, ...(o.rgsSessionTtlMs ? { rgsSessionTtlMs: o.rgsSessionTtlMs } : {}) }),
      ...(config.spectateLive ? { discover: { slugs: MOLTSTATION_SLUGS } } : {}),
      log,
    });
    return {
      service,
      async close() {
        await service.close();
        await vault.close();
      },
    };
  } catch (e) {
    await vault.close();
    throw e;
  }
}
