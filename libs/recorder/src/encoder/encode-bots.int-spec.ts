import { randomBytes } from 'node:crypto';
import { moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltHttpMiner, TrafficLog } from '@rewind/agents';
import { validateEvent } from '@rewind/event-store';
import type { CapturedFact, CaptureSink } from '@rewind/capture-facts';
import { withRig } from '@rewind/proxy/test-support';
import { secretsIn } from '../test-support/compare';
import { Redactor } from '@rewind/redaction';
import { EncodedEvent, FactEncoder } from './encode';

/** Encodes every fact as the capture pipeline will, keeping the results. */
class EncodingSink implements CaptureSink {
  readonly events: EncodedEvent[] = [];
  private readonly encoder = new FactEncoder(new Redactor(randomBytes(32)));
  capture(fact: CapturedFact): void {
    this.events.push(this.encoder.encode(fact));
  }
}

function expectNoSecret(events: EncodedEvent[], secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const e of events) {
    validateEvent({ ...e, sessionId: '00000000-0000-4000-8000-000000000001', seq: 1, offsetUs: 0, recordedAtUs: 0 }, 0);
    const stored = [typeof e.body === 'string' ? e.body : e.body ? e.body.toString('latin1') : '', e.meta ?? '', e.msgType ?? ''].join('\n');
    for (const s of secrets) expect({ secret: s, leaked: stored.includes(s) }).toEqual({ secret: s, leaked: false });
  }
}

describe('encoding what real bots exchange through the proxy: no secret survives', () => {
  it('MoltStation (Flappy Bots): auth tokens redacted, frames and inputs classified', async () => {
    const sink = new EncodingSink();
    const traffic = new TrafficLog();
    await withRig({ seed: 'enc-molt', platform: 'moltstation', viaProxy: true, sink }, (rig) => moltstation.runFlappyBotsFlapper({ baseUrl: rig.base, seed: 'enc', traffic, stopAfterTick: 40 }));
    expectNoSecret(sink.events, secretsIn(traffic));
    expect(sink.events.filter((e) => e.kind === 'frame').length).toBeGreaterThan(20);
    const inputs = sink.events.filter((e) => e.kind === 'input');
    expect(inputs.length).toBeGreaterThan(0);
    for (const i of inputs) expect(typeof i.tick).toBe('number');
    expect(sink.events.some((e) => e.msgType === 'ws-close' && JSON.parse(e.meta as string).reason === 'GAME_OVER')).toBe(true);
  });

  it('RGS: the launch URL sessionToken and bearer headers never survive', async () => {
    const sink = new EncodingSink();
    const traffic = new TrafficLog();
    await withRig({ seed: 'enc-rgs', platform: 'rgs', viaProxy: true, sink }, (rig) => runRgsBot({ baseUrl: rig.base, seed: 'enc', traffic }));
    expectNoSecret(sink.events, secretsIn(traffic));
    expect(sink.events.filter((e) => e.kind === 'request').length).toBe(sink.events.filter((e) => e.kind === 'response').length);
  });

  it('SpaceMolt HTTP v2: the session id (a credential) and the password never survive', async () => {
    const sink = new EncodingSink();
    const traffic = new TrafficLog();
    await withRig({ seed: 'enc-sm', platform: 'spacemolt', viaProxy: true, sink, platformOptions: { spacemolt: { tickMs: 50 } } }, (rig) =>
      runSpaceMoltHttpMiner({ baseUrl: rig.base, seed: 'enc', traffic, cycles: 1 }),
    );
    expectNoSecret(sink.events, secretsIn(traffic));
  });

  it('cloud-play: the bearer token never survives', async () => {
    const sink = new EncodingSink();
    const traffic = new TrafficLog();
    const token = 'enc-test-token-0123456789';
    await withRig({ seed: 'enc-cp', platform: 'cloudplay', viaProxy: true, sink, platformOptions: { cloudplay: { timeScale: 0.001 } } }, (rig) =>
      runCloudplayLauncher({ baseUrl: rig.base, token, traffic, pollIntervalMs: 20, keepaliveIntervalMs: 20, keepalives: 1 }),
    );
    expectNoSecret(sink.events, secretsIn(traffic, [token]));
  });
});
