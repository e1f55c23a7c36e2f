import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { createPino, LoggingOptions, rootLogger } from './logger';
import { redactUrl } from './redaction';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The Nest applications' logging on nestjs-pino: the `Logger` Nest uses (`app.useLogger(app.get(Logger))`),
 * request logging through pino-http with a request id (the caller's `x-request-id` when it is sane, else a new
 * uuid, echoed in the response), the same redaction as every other line. Successful requests log at `debug`
 * (a busy API at `info` would be its own noise), 4xx at `warn`, 5xx and failures at `error`.
 */
@Module({})
export class LoggingModule {
  /** `useRoot`: log through the process's root logger (`configureLogging`); `autoLogging: false`: no request lines. */
  static forRoot(options: LoggingOptions & { useRoot?: boolean; autoLogging?: boolean } = {}): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: options.useRoot ? rootLogger() : createPino(options),
            genReqId: (req: IncomingMessage, res: ServerResponse) => {
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
              res.setHeader('x-request-id', id);
              return id;
            },
            customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug'),
            quietReqLogger: true,
            // pino-http's own request serializer first (wrapSerializers), then the secret query values out of the url.
            serializers: { req: (req: { url?: string }) => ({ ...req, url: redactUrl(req.url ?? '') }) },
            autoLogging: options.autoLogging ?? true,
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
