import { maskUrl } from '@rewind/local-services';
import { DEMO_BOTS, runDemoBots } from '@rewind/agents';
import { parseFaultSpecs, SIMULATED_PLATFORMS, startSimulator } from '@rewind/simulator';
import { intOption, ParsedArgs, rejectUnknown } from '../args';
import { RecorderService } from '@rewind/capture';
import { apiKeyNote, replayPortRows } from '../api-options';
import { platformPortRows } from './up';
import { log, startLocalApp, startRuntime } from '../runtime';

const DEMO_RGS_TTL_MS = 30_000;

/**
 * rewind demo: everything on the embedded local defaults — Postgres, Redis, the API, the four platforms'
 * simulator — and bots playing every platform in a loop, until Ctrl-C (or --seconds N). --verbose adds
 * every bot step and simulator request to the log.
 */
export async function demoCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['seconds', 'verbose']);
  const verbose = args.options.has('verbose');
  const seconds = intOption(args, 'seconds', 0, 0, 86_400);
  const runtime = await startRuntime();
  const stops: (() => Promise<unknown>)[] = [() => runtime.services.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => log(`while stopping: ${String(e)}`));
  };
  const controller = new AbortController();
  let bots: Promise<unknown> = Promise.resolve();
  try {
    const sim = await startSimulator({
      port: runtime.config.simulatorPort,
      seed: runtime.config.simulatorSeed,
      faults: parseFaultSpecs(runtime.config.simulatorFaults),
      // SpaceMolt's real tick is 10 s (a mining cycle takes minutes); the demo plays it at 0.5 s. RGS
      // sessions expire after 1 h of inactivity; in the demo after 30 s, so their runs end while you watch.
      platformOptions: { spacemolt: { tickMs: 500 }, rgs: { sessionTtlMs: DEMO_RGS_TTL_MS } },
      rootPorts: runtime.config.simulatorPlatformPorts,
      log: verbose ? (line) => log(`simulator ${line}`) : () => undefined,
    });
    stops.push(() => sim.close());
    // One Nest application: the API, the recorder and the pipeline; its close stops them in order.
    const app = await startLocalApp(runtime, {
      recorder: { verbose, rgsSessionTtlMs: DEMO_RGS_TTL_MS },
      pipelineLog: { info: (m) => (verbose ? log(`pipeline ${m}`) : undefined), warn: (m) => log(`pipeline warning: ${m}`), error: (m) => log(`pipeline error: ${m}`) },
    });
    stops.push(() => app.close());
    const proxyUrl = app.get(RecorderService).proxyUrl;
    const upstreams = Object.fromEntries(SIMULATED_PLATFORMS.map((p) => [p, sim.baseUrl(p)]));

    const rows: [string, string][] = [
      ['viewer', `http://127.0.0.1:${runtime.config.apiPort}/  (watch the recorded runs in a browser; it asks once for the API key ${apiKeyNote(runtime)})`],
      [
        'API',
        `http://127.0.0.1:${runtime.config.apiPort}  (GET /api/sessions, /api/sessions/{id}/audit, /api/analytics/runs, /health/ready, /metrics; OpenAPI at /docs; Bull Board at /queues, admin keys)`,
      ],
      ['proxy', `${proxyUrl}/<platform>/…  (the bots play through it; every message is recorded)`],
      ...SIMULATED_PLATFORMS.map((p): [string, string] => [p, `${proxyUrl}/${p}  →  ${sim.baseUrl(p)}`]),
      ...platformPortRows(app.get(RecorderService).proxyPlatformUrls, upstreams, '').map(([k, v]): [string, string] => [k === 'Proxy' ? 'proxy' : k, v]),
      ['faults', `${sim.url}/admin/faults`],
      ['rewards', `${runtime.config.pipeline.rewardsUrl}  (run outcomes handed off here; GET lists them)`],
      ['replay', `ws://127.0.0.1:${runtime.config.apiPort}/replay/<sessionId>  (Authorization: Bearer <API key ${apiKeyNote(runtime)}>)`],
      ...replayPortRows(runtime),
      ['bots', DEMO_BOTS.map((b) => b.name).join(', ')],
      ['Postgres', maskUrl(runtime.databaseUrl)],
      ['Redis', maskUrl(runtime.redisUrl)],
      ['sessions', './rewind verify --all   (every recorded session, hash chains checked)'],
    ];
    process.stdout.write(
      `\nRewind demo is up: the simulator serves the four platforms, the bots play them through the recording proxy.\n` +
        `${rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join('\n')}\n\n` +
        `${seconds ? `Stopping after ${seconds} s.` : 'Press Ctrl-C to stop.'}\n`,
    );
    bots = runDemoBots(DEMO_BOTS, (p) => `${proxyUrl}/${p}`, { signal: controller.signal, log, seed: runtime.config.simulatorSeed, verbose });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (seconds) setTimeout(resolve, seconds * 1000).unref();
    });
  } finally {
    log('stopping…');
    controller.abort();
    // Bots stop at their next step; one stuck on a socket does not hold the shutdown for long.
    const counts = await Promise.race([bots, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (counts && typeof counts === 'object') log(`bot runs: ${JSON.stringify(counts)}`);
    await stopAll();
    log('stopped');
  }
  return 0;
}
