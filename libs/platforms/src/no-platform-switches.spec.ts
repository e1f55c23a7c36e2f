import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SIMULATED_PLATFORMS } from './platforms';

/**
 * Platform knowledge lives in the platform modules: the product libraries ask the registry (`platformOf`) rather
 * than compare with a platform's name. This scan of their non-test sources finds quoted platform names; the
 * allow-list holds what is left, each with its reason and its count, and may only shrink (a stale count fails too).
 */
const ROOT = join(__dirname, '..', '..', '..');
const SCANNED = [
  'libs/capture-facts/src',
  'libs/redaction/src',
  'libs/ingest/src',
  'libs/scaleout/src',
  'libs/proxy/src',
  'libs/live-capture/src',
  'libs/capture/src',
  'libs/audit/src',
  'libs/api/src',
  'libs/pipeline/src',
  'libs/replay/src',
];
const TEST_FILE = /\.(spec|int-spec|e2e-spec|soak-spec)\.ts$|\/test-support(\/|\.ts$)|\/test-helpers\.ts$/;
const LITERAL = new RegExp(`['"\`](${SIMULATED_PLATFORMS.join('|')})['"\`]`, 'g');

const ALLOWED: Record<string, { count: number; why: string }> = {
  'libs/live-capture/src/pollers/cloudplay-poller.ts': { count: 1, why: "the cloud-play poller (a capture task's runner, I/O) labels its facts with its platform" },
  'libs/live-capture/src/pollers/rgs-poller.ts': { count: 1, why: "the RGS poller (a capture task's runner, I/O) labels its facts with its platform" },
  'libs/live-capture/src/pollers/poll-common.ts': { count: 2, why: 'the platforms that have a poller' },
  'libs/live-capture/src/spectator/spectate.ts': { count: 1, why: "MoltStation's spectator (a capture task's runner, I/O) labels its facts with its platform" },
  'libs/capture/src/task-runners.ts': { count: 3, why: "each capture task's runner is started with its platform's upstream URL" },
  'libs/capture/src/schedulers.ts': { count: 2, why: "the live-list discovery offers MoltStation's spectator task" },
  'libs/api/src/replay/platform-listeners.ts': { count: 2, why: 'the replay ports per platform name the two platforms that have one (REWIND_REPLAY_PORT_MOLTSTATION, _SPACEMOLT)' },
  'libs/pipeline/src/jobs.ts': { count: 1, why: "the snapshot submission calls MoltStation's snapshot endpoint (the only platform that has one)" },
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !TEST_FILE.test(path) ? [path] : [];
  });
}

describe('platform names in the product libraries', () => {
  it('given the product libraries, then no source outside the allow-list compares with or names a platform, and the allow-list is current', () => {
    const found: Record<string, number> = {};
    for (const dir of SCANNED) {
      for (const path of sources(join(ROOT, dir))) {
        const n = (readFileSync(path, 'utf8').match(LITERAL) ?? []).length;
        if (n > 0) found[relative(ROOT, path).split('\\').join('/')] = n;
      }
    }
    expect(found).toEqual(Object.fromEntries(Object.entries(ALLOWED).map(([file, { count }]) => [file, count])));
  });
});
