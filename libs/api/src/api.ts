import 'reflect-metadata';
import { DynamicModule, INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import type { Pool } from 'pg';
import { PG_POOL } from '@rewind/db';
import { EventStore } from '@rewind/event-store';
import { ApiOptions, AppModule } from './app.module';
import { ReplayGateway } from './replay/gateway';
import { ReplayAuth } from './replay/replay-auth';
import { viewerAssets } from './viewer/viewer-assets';

/** Creates and starts the HTTP API on 127.0.0.1:`port` (0 picks a free port). */
export async function startApi(
  options: ApiOptions & { port: number; host?: string; logger?: boolean; shutdownHooks?: boolean; imports?: DynamicModule[] },
): Promise<INestApplication> {
  // `imports`: more modules in the same application (`rewind up`: the recorder, the pipeline), closed with it.
  const root = AppModule.forRoot(options);
  const app = await NestFactory.create(options.imports?.length ? { ...root, imports: [...(root.imports ?? []), ...options.imports] } : root, {
    logger: options.logger === false ? false : ['error', 'warn', 'log'],
    abortOnError: false,
  });
  // A stand-alone API closes itself on SIGTERM/SIGINT; an embedding process (rewind up) closes it.
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  // The web viewer at / (apps/viewer): pages and its modules, served from source like the rest of Rewind.
  app.use(viewerAssets());
  // OpenAPI: the document at /docs-json, Swagger UI at /docs (its assets come from swagger-ui-dist, locally).
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Rewind API').setDescription('Recorded sessions, their events, the outcome pipeline, health and metrics.').setVersion('1').build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  // The replay gateway's WebSockets share the API's port (docs/replay.md).
  const gateway = new ReplayGateway(app.get(EventStore), app.get<Pool>(PG_POOL), app.get(ReplayAuth));
  gateway.attach(app.getHttpServer() as Server);
  const close = app.close.bind(app);
  app.close = async () => {
    gateway.close();
    await close();
  };
  await app.listen(options.port, options.host ?? '127.0.0.1');
  Logger.log(`listening on ${await app.getUrl()}`, 'RewindApi');
  return app;
}
