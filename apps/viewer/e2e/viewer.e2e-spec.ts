import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, Browser, Page } from 'playwright-core';
import { findRepoRoot } from '@rewind/config';
import { ensureChromium } from '@rewind/local-services';
import { freePorts, RunningCli, spawnRewind, waitFor } from '@rewind/testing';

/** Screenshots of this run, for people to look at (test-output/ is kept by CI, not committed). */
const SHOTS = path.join(findRepoRoot(), 'test-output', 'viewer');

interface ViewerState {
  playing: boolean;
  seq: number | null;
  offsetUs: number | null;
  framesDrawn: number;
  ended: boolean;
}

/**
 * The web viewer in a real browser: `rewind demo` records runs from the simulator, then Debian's Chromium
 * (driven by playwright-core, no browser download) opens the viewer the API serves, plays a recorded
 * Flappy Bots run from the replay gateway, checks that the canvas changes over time and that the scrubber
 * seeks, and saves screenshots.
 */
describe('the web viewer in headless Chromium', () => {
  let cli: RunningCli;
  let browser: Browser;
  let page: Page;
  let base = '';
  const apiKey = `viewer-e2e-${randomBytes(12).toString('hex')}`;
  const pageErrors: string[] = [];
  const offOrigin: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const executablePath = await ensureChromium(path.join(findRepoRoot(), '.rewind'), (line) => process.stderr.write(`[viewer e2e] ${line}\n`));
    const [apiPort, simPort, proxyPort, replayMolt, replaySpace] = (await freePorts(5)) as [number, number, number, number, number];
    base = `http://127.0.0.1:${apiPort}`;
    cli = spawnRewind(['demo', '--seconds', '90'], {
      REWIND_API_PORT: String(apiPort),
      SIMULATOR_PORT: String(simPort),
      REWIND_PROXY_PORT: String(proxyPort),
      // The per-platform listeners are off: their default ports would clash with other runs in parallel.
      REWIND_PROXY_PORT_MOLTSTATION: '0',
      REWIND_PROXY_PORT_SPACEMOLT: '0',
      REWIND_PROXY_PORT_CLOUDPLAY: '0',
      REWIND_PROXY_PORT_RGS: '0',
      SIMULATOR_PLATFORM_PORTS: '0',
      REWIND_REPLAY_PORT_MOLTSTATION: String(replayMolt),
      REWIND_REPLAY_PORT_SPACEMOLT: String(replaySpace),
      REWIND_API_KEYS: apiKey,
      SIMULATOR_FAULTS: '',
      REWIND_CAPTURE_QUEUE: `viewer-e2e-${apiPort}`,
      REWIND_QUEUE_PREFIX: `viewer-e2e-${apiPort}`,
      REWIND_SEAL_AFTER_MS: '1000',
    });
    await cli.waitFor('Rewind demo is up', 120_000);
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    // The page works with nothing but the API: every request it makes goes to the API's origin.
    page.on('request', (r) => !r.url().startsWith(base) && !r.url().startsWith(base.replace('http', 'ws')) && !r.url().startsWith('data:') && offOrigin.push(r.url()));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    cli?.kill('SIGINT');
    await cli?.exited;
  });

  /** A Flappy Bots run that ended, recorded by the proxy (its frames are what the bot saw). */
  async function endedFlappyRun(): Promise<{ id: string; events: number }> {
    return waitFor(
      'an ended Flappy Bots run',
      async () => {
        const r = (await (await api(`/api/sessions?platform=moltstation&game=flappybots&limit=50`)).json()) as {
          sessions: { id: string; status: string; events: number; metadata: Record<string, unknown> }[];
        };
        const run = r.sessions.find((s) => s.status !== 'open' && s.metadata['stream'] === 'run' && s.metadata['capturedBy'] === 'proxy' && s.events > 100);
        return run && { id: run.id, events: run.events };
      },
      90_000,
      500,
    );
  }

  /** The test's own look-ups, with the key (reading sessions needs the read scope). */
  const api = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  // (The callbacks run in the page; this file is type-checked without the DOM library, hence the shapes.)
  const state = () => page.evaluate(() => (globalThis as unknown as { rewindViewer: { state(): ViewerState } }).rewindViewer.state());
  const canvasPixels = () => page.evaluate(() => (globalThis as unknown as { document: { querySelector(s: string): { toDataURL(): string } } }).document.querySelector('#stage').toDataURL());
  /** Waits until the canvas shows something other than `first` (the replay draws as it plays) and returns it. */
  const canvasChangedFrom = (first: string) =>
    waitFor(
      'the canvas to change as it plays',
      async () => {
        const now = await canvasPixels();
        return now !== first && now;
      },
      15_000,
      100,
    );

  it('lists the recorded sessions with live and audit badges', async () => {
    await endedFlappyRun();
    await page.goto(`${base}/#key=${apiKey}`);
    await page.waitForSelector('.session-row', { timeout: 60_000 });
    expect(await page.locator('.session-row').count()).toBeGreaterThan(3);
    expect(await page.locator('.badge-audit').count()).toBeGreaterThan(0);
    expect(page.url()).not.toContain(apiKey); // the key leaves the address bar
    await page.screenshot({ path: path.join(SHOTS, '1-sessions.png'), fullPage: true });
  }, 120_000);

  it('plays a recorded Flappy Bots run on the canvas, seeks with the scrubber, and shows the audit', async () => {
    const run = await endedFlappyRun();
    // The pipeline audits a run once its snapshot and handoff are done (slower on a busy machine): the page
    // asks again every 5 s while it is pending; here we wait for it first so the page shows it on load.
    await waitFor('the run audited', async () => (await api(`/api/sessions/${run.id}/audit`)).ok, 90_000, 1000);
    await page.goto(`${base}/session.html?id=${run.id}`);
    await page.waitForSelector('#stage');
    await page.waitForSelector('#audit .badge-audit', { timeout: 60_000 });
    await page.selectOption('#speed', '2');
    await page.click('#play');
    await waitFor('frames drawn', async () => (await state()).framesDrawn > 5, 15_000, 100);
    const first = await canvasPixels();
    await page.screenshot({ path: path.join(SHOTS, '2-playing.png') });
    // The bot and the gates move: the canvas changes as it plays.
    const second = await canvasChangedFrom(first);
    expect(second).not.toBe(first);
    const playing = await state();
    expect(playing.playing).toBe(true);
    expect(playing.seq).toBeGreaterThan(1);

    // Seek to ~80 % of the run with the scrubber: the position jumps there, without playing what lies between.
    // Slowest speed first, so that a short run does not play on to its closing events (no JSON body) before
    // the pause below.
    await page.selectOption('#speed', '0.25');
    const max = Number(await page.getAttribute('#scrubber', 'max'));
    const target = Math.round(max * 0.8);
    await page.locator('#scrubber').evaluate((el, v) => {
      const input = el as unknown as { value: string; dispatchEvent(e: Event): boolean };
      input.value = String(v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, target);
    const before = playing.seq as number;
    const after = await waitFor(
      'the seek to land',
      async () => {
        const s = await state();
        return s.seq !== null && s.seq > before + 20 && s;
      },
      15_000,
      100,
    );
    expect(after.seq).toBeGreaterThan(before);
    await page.screenshot({ path: path.join(SHOTS, '3-after-seek.png') });
    // Paused, the inspector shows the event the replay stands on: its seq, its parsed body and the raw one.
    await page.click('#play');
    await waitFor('paused', async () => !(await state()).playing || undefined, 5_000, 50);
    // An event the gateway sent before the pause reached it may still land just after: read the position and the
    // inspector together until they agree (both then stay put).
    const { here, inspector } = await waitFor(
      'the inspector on the event the paused replay stands on',
      async () => {
        const at = await state();
        const text = (await page.textContent('#inspector')) ?? '';
        return text.includes(`#${at.seq} `) && { here: at, inspector: text };
      },
      10_000,
      100,
    );
    expect(inspector).toContain(`#${here.seq} `);
    expect(inspector).toMatch(/Parsed\s*[{[][\s\S]*Raw body/);
    expect(await page.textContent('#audit')).toMatch(/chain/);
    await page.screenshot({ path: path.join(SHOTS, '4-audit.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(offOrigin).toEqual([]);
  }, 180_000);
  it('draws a recorded ShellRunners run (pawn, entities, HUD) and changes it as it plays', async () => {
    const run = await waitFor(
      'an ended ShellRunners run',
      async () => {
        const r = (await (await api(`/api/sessions?platform=moltstation&game=shellrunners&limit=50`)).json()) as {
          sessions: { id: string; status: string; events: number; metadata: Record<string, unknown> }[];
        };
        return r.sessions.find((s) => s.status !== 'open' && s.metadata['stream'] === 'run' && s.metadata['capturedBy'] === 'proxy' && s.events > 60);
      },
      90_000,
      500,
    );
    await page.goto(`${base}/session.html?id=${run.id}`);
    await page.waitForSelector('#stage');
    await page.selectOption('#speed', '4');
    await page.click('#play');
    await waitFor('frames drawn', async () => (await state()).framesDrawn > 5, 15_000, 100);
    const first = await canvasPixels();
    const changed = await canvasChangedFrom(first);
    expect(changed).not.toBe(first);
    await page.screenshot({ path: path.join(SHOTS, '5-shellrunners.png') });
    expect(pageErrors).toEqual([]);
  }, 120_000);
  it('follows a session while it is being recorded (live view, joining late)', async () => {
    const live = await waitFor(
      'a MoltStation run being recorded',
      async () => {
        const r = (await (await api(`/api/sessions?platform=moltstation&status=open&limit=50`)).json()) as { sessions: { id: string; events: number; metadata: Record<string, unknown> }[] };
        return r.sessions.find((s) => s.metadata['stream'] === 'run' && s.metadata['capturedBy'] === 'proxy' && s.events > 20);
      },
      60_000,
      200,
    );
    await page.goto(`${base}/session.html?id=${live.id}`);
    await page.waitForSelector('#follow:not([hidden])', { timeout: 60_000 });
    await page.click('#follow');
    const first = await waitFor(
      'live frames',
      async () => {
        const s = await state();
        return s.seq !== null && s.seq > 0 && s.framesDrawn > 0 && s;
      },
      15_000,
      100,
    );
    expect(first.seq).toBeGreaterThan(live.events - 60); // a late joiner starts near the live edge, not at seq 1
    await waitFor('more frames as they are recorded', async () => ((await state()).seq ?? 0) > (first.seq as number) + 5 || undefined, 20_000, 100);
    await page.screenshot({ path: path.join(SHOTS, '6-live.png') });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('shows an RGS run as a timeline of rounds with their key values', async () => {
    const rgs = await waitFor(
      'an RGS run with rounds',
      async () => {
        const r = (await (await api(`/api/sessions?platform=rgs&game=dice-alpha&limit=50`)).json()) as { sessions: { id: string; events: number; metadata: Record<string, unknown> }[] };
        return r.sessions.find((s) => s.metadata['capturedBy'] === 'proxy' && s.events > 10);
      },
      60_000,
      200,
    );
    await page.goto(`${base}/session.html?id=${rgs.id}`);
    await page.waitForFunction(
      () => /payout/i.test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('#events')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.textContent('#events')).toMatch(/multiplier/i);
    await page.screenshot({ path: path.join(SHOTS, '7-rgs.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
