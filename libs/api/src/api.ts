import 'reflect-metadata';
import { DynamicModule, INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { API_OPTIONS, ApiOptions, AppModule } from './app.module';
import { tokenCors } from './replay/cors';
import { ReplayWsAdapter } from './replay/ws-adapter';
import { viewerAssets } from './viewer/viewer-assets';

export interface ApiStart {
  port: number;
  host?: string;
  logger?: boolean;
  shutdownHooks?: boolean;
  /** More modules in the same application (`rewind up`: the recorder, the pipeline), closed with it. */
  imports?: DynamicModule[];
}

/** Creates and starts the HTTP API on 127.0.0.1:`port` (0 picks a free port). */
export async function startApi(options: ApiOptions & ApiStart): Promise<INestApplication> {
  return startApiModule(AppModule.forRoot(options), options);
}

/**
 * Starts an application whose root is `root` (AppModule, or a module that imports it — `apiModuleFromConfig`:
 * the configuration module and AppModule.forRootAsync) on 127.0.0.1:`port`.
 */
export async function startApiModule(root: DynamicModule, options: ApiStart): Promise<INestApplication> {
  const app = await NestFactory.create(options.imports?.length ? { ...root, imports: [...(root.imports ?? []), ...options.imports] } : root, {
    // nestjs-pino is the Nest logger (JSON lines, secrets redacted); what Nest logs before it is ready is buffered.
    ...(options.logger === false ? { logger: false as const } : { bufferLogs: true }),
    abortOnError: false,
  });
  if (options.logger !== false) app.useLogger(app.get(PinoLogger));
  // A stand-alone API closes itself on SIGTERM/SIGINT; an embedding process (rewind up) closes it.
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  // CORS on the replay base's spectate-token endpoints for REWIND_CORS_ORIGINS (preflights answered here, before the guards).
  app.use(tokenCors(app.get<ApiOptions>(API_OPTIONS, { strict: false }).corsOrigins ?? []));
  // The web viewer at / (apps/viewer): pages and its modules, served from source like the rest of Rewind.
  app.use(viewerAssets());
  // OpenAPI: the document at /docs-json, Swagger UI at /docs (its assets come from swagger-ui-dist, locally).
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Rewind API').setDescription('Recorded sessions, their events, the outcome pipeline, health and metrics.').setVersion('1').build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  // The replay gateway (a provider of AppModule) shares the API's port: its adapter routes `/replay/…` upgrades
  // to it and answers 404 to any other (docs/replay.md). Nest connects it in listen() and closes it in close().
  app.useWebSocketAdapter(new ReplayWsAdapter(app));
  await app.listen(options.port, options.host ?? '127.0.0.1');
  Logger.log(`listening on ${await app.getUrl()}`, 'RewindApi');
  return app;
}
