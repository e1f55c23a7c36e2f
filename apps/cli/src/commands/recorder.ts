import { maskUrl } from '@rewind/local-services';
import { intOption, ParsedArgs, rejectUnknown } from '../args';
import { startRecording } from '@rewind/capture';
import { log, startRuntime } from '../runtime';

/**
 * rewind recorder: one recorder process — the recording proxy and a share of the live captures
 * (spectators, pollers). Run several (each with its own --port, and its own REWIND_PROXY_PORT_<PLATFORM> or 0) to
 * scale out: they share the captures through BullMQ, and when one dies another takes its captures over within seconds.
 */
export async function recorderCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['port', 'instance', 'verbose']);
  const runtime = await startRuntime();
  const port = intOption(args, 'port', runtime.config.proxyPort, 0, 65535);
  const instance = args.options.get('instance');
  let recording;
  try {
    recording = await startRecording(runtime, { verbose: args.options.has('verbose'), port, ...(typeof instance === 'string' ? { instance } : {}) });
  } catch (e) {
    await runtime.services.stop();
    throw e;
  }
  const rows: [string, string][] = [
    ['proxy', `${recording.service.proxyUrl}/<platform>/…`],
    ...Object.entries(runtime.config.upstreams).map(([p, url]): [string, string] => [p, `${recording.service.proxyUrl}/${p}  →  ${url}`]),
    ...Object.entries(recording.service.proxyPlatformUrls).map(([p, url]): [string, string] => [
      p,
      `${url}/…  (at the root)  →  ${runtime.config.upstreams[p as keyof typeof runtime.config.upstreams]}`,
    ]),
    ['Postgres', maskUrl(runtime.databaseUrl)],
    ['Redis', maskUrl(runtime.redisUrl)],
  ];
  process.stdout.write(`\nRewind recorder is up.\n${rows.map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join('\n')}\n\nPress Ctrl-C to stop.\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping…');
  try {
    const stats = recording.service.stats();
    await recording.close();
    log(`recorded ${stats.recorder.events} events in ${stats.recorder.streamsOpened} streams; ${stats.ingest.journaled} journaled`);
  } finally {
    await runtime.services.stop();
  }
  log('stopped');
  return 0;
}
