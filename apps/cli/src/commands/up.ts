import * as path from 'node:path';
import { maskUrl } from '@rewind/local-services';
import { ParsedArgs, rejectUnknown } from '../args';
import { RecorderService } from '@rewind/capture';
import { apiKeyNote, replayPortRows } from '../api-options';
import { log, startLocalApp, startRuntime } from '../runtime';

/**
 * The proxy's per-platform ports, for `up` and `demo`: each platform's own paths at the root, for agents and pages
 * that build URLs with absolute paths (only host:port changes). None configured: no rows.
 */
export function platformPortRows(urls: Partial<Record<string, string>>, upstreams: Record<string, string>, indent = '  '): [string, string][] {
  const entries = Object.entries(urls).filter((e): e is [string, string] => e[1] !== undefined);
  if (entries.length === 0) return [];
  return [
    ['Proxy', 'each platform at the root of a port of its own (for clients that build URLs with absolute paths: only host:port changes)'],
    ...entries.map(([p, url]): [string, string] => [`${indent}${p}`, `${url}/…  →  ${upstreams[p] ?? '?'}`]),
  ];
}

/**
 * rewind up: everything that exists, on the embedded local defaults, in the foreground until Ctrl-C;
 * local servers this command started are stopped on the way out.
 */
export async function upCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, []);
  const runtime = await startRuntime();
  // One Nest application: the API, the recorder and the pipeline; its close stops them in order.
  let app;
  try {
    app = await startLocalApp(runtime, {
      recorder: { verbose: runtime.config.logLevel === 'debug' },
      pipelineLog: { info: () => undefined, warn: (m) => log(`pipeline warning: ${m}`), error: (m) => log(`pipeline error: ${m}`) },
    });
  } catch (e) {
    await runtime.services.stop();
    throw e;
  }
  const recording = { service: app.get(RecorderService) };
  const apiUrl = `http://127.0.0.1:${runtime.config.apiPort}`;
  const rows: [string, string][] = [
    ['Viewer', `${apiUrl}/  (recorded runs in a browser; API key ${apiKeyNote(runtime)})`],
    ['API', `${apiUrl}  (GET /api/sessions, /api/sessions/{id}/audit, /api/analytics/runs, /health/ready, /metrics; OpenAPI at /docs; Bull Board at /queues, admin keys)`],
    ['Proxy', `${recording.service.proxyUrl}/<platform>/…  (point an agent's base URL here to record it)`],
    ...Object.entries(runtime.config.upstreams).map(([p, url]): [string, string] => [`  ${p}`, `${recording.service.proxyUrl}/${p}  →  ${url}`]),
    ...platformPortRows(recording.service.proxyPlatformUrls, runtime.config.upstreams),
    ['Replay', `ws://127.0.0.1:${runtime.config.apiPort}/replay/<sessionId>  (API key ${apiKeyNote(runtime)})`],
    ...replayPortRows(runtime),
    ['Postgres', maskUrl(runtime.databaseUrl) + (runtime.services.startedPostgres ? '  (started now)' : '')],
    ['Redis', maskUrl(runtime.redisUrl) + (runtime.services.startedRedis ? '  (started now)' : '')],
    ['Data', path.relative(process.cwd(), runtime.config.dataDir) || runtime.config.dataDir],
    ['Verify', './rewind verify --all'],
  ];
  process.stdout.write(`\nRewind is up.\n${rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}`).join('\n')}\n\nPress Ctrl-C to stop.\n`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log('stopping…');
  try {
    await app.close();
  } finally {
    await runtime.services.stop();
  }
  log('stopped');
  return 0;
}
