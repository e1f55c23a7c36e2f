import { isatty } from 'node:tty';
import pino, { DestinationStream, Logger, LoggerOptions } from 'pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REDACT_PATHS, REDACTED, redactUrl } from './redaction';

export type RewindLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type RewindLogFormat = 'auto' | 'json' | 'pretty';

export interface LoggingOptions {
  /** Default `info`. */
  level?: RewindLogLevel;
  /** `auto` (default): pretty lines when the destination is a terminal, JSON otherwise. */
  format?: RewindLogFormat;
  /** Where lines go (tests pass a stream). Default: stderr — stdout stays the CLI's own output. */
  destination?: DestinationStream;
  /** Written into every line (`service`: api, recorder, pipeline…). */
  service?: string;
}

/** The request and response as logged: method, url (secret query values redacted), headers (redacted by path). */
const serializers: LoggerOptions['serializers'] = {
  req: (req: IncomingMessage & { id?: unknown; raw?: IncomingMessage }) => {
    const r = req.raw ?? req;
    return { id: req.id, method: r.method, url: redactUrl(r.url ?? ''), headers: { ...r.headers }, remoteAddress: r.socket?.remoteAddress };
  },
  res: (res: ServerResponse & { raw?: ServerResponse }) => {
    const r = res.raw ?? res;
    return { statusCode: r.statusCode, headers: typeof r.getHeaders === 'function' ? { ...r.getHeaders() } : undefined };
  },
  err: pino.stdSerializers.err,
};

/** pino options shared by every Rewind process: level, redaction, serializers, ISO time. */
export function pinoOptions(options: LoggingOptions = {}): LoggerOptions {
  return {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers,
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { pid: process.pid, ...(options.service ? { service: options.service } : {}) },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/**
 * A pino logger: JSON lines, or coloured lines through pino-pretty when the destination is a terminal (a person
 * reads it; never in tests or CI, whose output is not a TTY and whose config says `json`).
 */
export function createPino(options: LoggingOptions = {}): Logger {
  const pretty = options.format === 'pretty' || (options.format !== 'json' && options.destination === undefined && isatty(2));
  if (options.destination) return pino(pinoOptions(options), options.destination);
  if (pretty) {
    // pino-pretty in-process (no worker thread): a few lines a second at most on a terminal.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prettyStream = (require('pino-pretty') as typeof import('pino-pretty'))({ destination: 2, colorize: isatty(2), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
    return pino(pinoOptions(options), prettyStream);
  }
  return pino(pinoOptions(options), pino.destination({ dest: 2, sync: true }));
}

let root: Logger | undefined;

/** Sets the process's root logger (once at start-up, from the validated configuration); later calls replace it. */
export function configureLogging(options: LoggingOptions = {}): Logger {
  root = createPino(options);
  return root;
}

/** The process's root logger (a default one, `info` and `auto`, until `configureLogging`). */
export function rootLogger(): Logger {
  root ??= createPino();
  return root;
}

/**
 * A named logger for code outside Nest (the recorder's ingest, the CLI's processes): a child of the same pino
 * root the Nest applications log through, so one process writes one stream with one redaction.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ context: name, ...bindings });
}

/** The `{ info, warn, error }` shape several Rewind components take (IngestLogger, pipeline loggers). */
export function levelLogger(logger: Logger): { debug: (m: string) => void; info: (m: string) => void; warn: (m: string) => void; error: (m: string) => void } {
  return { debug: (m) => logger.debug(m), info: (m) => logger.info(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) };
}
