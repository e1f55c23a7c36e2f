import { randomBytes } from 'node:crypto';
import { validateEvent } from '@rewind/event-store';
import type { CapturedFact } from '@rewind/capture-facts';
import { Redactor } from '@rewind/redaction';
import { EncodedEvent, FactEncoder } from './encode';

const base = { atNs: 1n, wallUs: 1 };
const sid = '00000000-0000-4000-8000-000000000001';

/** Every encoded event must pass the event store's own validation (once it has a session, seq, times). */
function valid(e: EncodedEvent): EncodedEvent {
  validateEvent({ ...e, sessionId: sid, seq: 1, offsetUs: 0, recordedAtUs: 0 }, 0);
  return e;
}

describe('FactEncoder', () => {
  const TOKEN = 'pt_7c1e9a0b4d2f8e6a5b3c1d0e';
  let sut: FactEncoder;
  beforeEach(() => {
    sut = new FactEncoder(new Redactor(randomBytes(32)));
  });
  const enc = (f: CapturedFact) => valid(sut.encode(f));

  it('MoltStation: redacts the auth message, classifies frames and stamps inputs with the last tick seen', () => {
    const ws = { ...base, platform: 'moltstation' as const, connectionId: 'ws-1' };
    const open = enc({ ...ws, type: 'ws-open', path: '/ws/shellrunners/play?sessionId=ms_1', headers: [['host', 'x']] });
    expect(open).toMatchObject({ kind: 'lifecycle', channel: 'play_ws', msgType: 'ws-open', format: 'empty', body: null });

    const auth = enc({ ...ws, type: 'ws-message', direction: 'client_to_platform', data: `{"t":"auth","token":"${TOKEN}"}`, binary: false });
    expect(auth).toMatchObject({ kind: 'command', msgType: 'auth', format: 'json' });
    expect(auth.body).toMatch(/^\{"t":"auth","token":"\[redacted:[0-9a-f]{16}\]"\}$/);

    const frame = enc({ ...ws, type: 'ws-message', direction: 'platform_to_client', data: '{"t":"frame","frame":{"tick":41,"phase":"running"}}', binary: false });
    expect(frame).toMatchObject({ kind: 'frame', msgType: 'frame', tick: 41, channel: 'play_ws' });
    expect(frame.body).toBe('{"t":"frame","frame":{"tick":41,"phase":"running"}}');

    const input = enc({ ...ws, type: 'ws-message', direction: 'client_to_platform', data: '{"t":"input","dir":"left"}', binary: false });
    expect(input).toMatchObject({ kind: 'input', msgType: 'input', tick: 41 });

    const close = enc({ ...ws, type: 'ws-close', initiator: 'platform', code: 1000, reason: 'GAME_OVER' });
    expect(close).toMatchObject({ kind: 'lifecycle', direction: 'platform_to_client', msgType: 'ws-close' });
    expect(JSON.parse(close.meta as string)).toEqual({ code: 1000, reason: 'GAME_OVER', initiator: 'platform' });
  });

  it('MoltStation spectators are on the spectate channel', () => {
    enc({ ...base, platform: 'moltstation', connectionId: 'ws-2', type: 'ws-open', path: '/ws/flappybots/spectate?sessionId=ms_2', headers: [] });
    const frame = enc({ ...base, platform: 'moltstation', connectionId: 'ws-2', type: 'ws-message', direction: 'platform_to_client', data: '{"t":"frame","frame":{"tick":3}}', binary: false });
    expect(frame.channel).toBe('spectate_ws');
  });

  it("takes the observer's own parse of a message (the spectator's) instead of parsing it again, to the same event", () => {
    const spectator = { ...base, platform: 'moltstation' as const, origin: 'spectator' as const, type: 'ws-message' as const, direction: 'platform_to_client' as const, binary: false };
    const data = '{"t":"frame","frame":{"tick":7,"phase":"running","token":"' + TOKEN + '"}}';
    const parsedBefore = enc({ ...spectator, connectionId: 'ws-s1', data });
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const handedOver = enc({ ...spectator, connectionId: 'ws-s2', data, parsed: JSON.parse(data) as unknown });
      parse.mockClear();
      const again = enc({ ...spectator, connectionId: 'ws-s3', data, parsed: JSON.parse(data) as unknown });
      expect(parse).toHaveBeenCalledTimes(1); // the spec's own parse above, none in the encoder
      expect(handedOver).toEqual(parsedBefore);
      expect(again).toEqual(parsedBefore);
      expect(again).toMatchObject({ kind: 'frame', msgType: 'frame', tick: 7, format: 'json', channel: 'spectate_ws' });
      expect(again.body).not.toContain(TOKEN);
    } finally {
      parse.mockRestore();
    }
  });

  it('SpaceMolt: replies echoing request_id are responses, pushes are notifications, NDJSON batches stay whole', () => {
    const ws = { ...base, platform: 'spacemolt' as const, connectionId: 'ws-3' };
    enc({ ...ws, type: 'ws-open', path: '/ws', headers: [] });
    expect(enc({ ...ws, type: 'ws-message', direction: 'client_to_platform', data: '{"type":"mine","request_id":"r-1"}', binary: false })).toMatchObject({
      kind: 'command',
      msgType: 'mine',
      requestId: 'r-1',
    });
    expect(enc({ ...ws, type: 'ws-message', direction: 'platform_to_client', data: '{"type":"ok","payload":{},"request_id":"r-1"}', binary: false })).toMatchObject({
      kind: 'response',
      requestId: 'r-1',
    });
    expect(enc({ ...ws, type: 'ws-message', direction: 'platform_to_client', data: '{"type":"mining_yield","payload":{}}', binary: false })).toMatchObject({ kind: 'notification', requestId: null });
    const batch = '{"type":"reconnected","payload":{}}\n{"type":"logged_in","payload":{"password":"hunter2hunter2"}}';
    const encoded = enc({ ...ws, type: 'ws-message', direction: 'platform_to_client', data: batch, binary: false });
    expect(encoded).toMatchObject({ format: 'ndjson', msgType: 'reconnected' });
    expect(encoded.body).not.toContain('hunter2hunter2');
    expect((encoded.body as string).split('\n')).toHaveLength(2);
  });

  it('HTTP: request and response pair up, status and headers go to meta, secrets are redacted everywhere', () => {
    const http = { ...base, platform: 'rgs' as const, connectionId: 'http-9' };
    const req = enc({
      ...http,
      type: 'http-request',
      method: 'POST',
      path: `/game/play?sessionToken=${TOKEN}`,
      headers: [
        ['authorization', `Bearer ${TOKEN}`],
        ['content-type', 'application/json'],
      ],
      body: Buffer.from('{"wager":"1.00"}'),
    });
    expect(req).toMatchObject({ kind: 'request', channel: 'http', format: 'json', body: '{"wager":"1.00"}', msgType: 'POST /game/play', requestId: 'http-9' });
    const reqMeta = JSON.parse(req.meta as string);
    expect(reqMeta.method).toBe('POST');
    expect(JSON.stringify(reqMeta)).not.toContain(TOKEN);
    expect(reqMeta.headers[0][1]).toMatch(/^Bearer \[redacted:[0-9a-f]{16}\]$/);

    const res = enc({ ...http, type: 'http-response', status: 201, headers: [['content-type', 'application/json; charset=utf-8']], body: Buffer.from(`{"ok":true,"echo":"${TOKEN}"}`) });
    expect(res).toMatchObject({ kind: 'response', direction: 'platform_to_client', msgType: 'POST /game/play', requestId: 'http-9', format: 'json' });
    expect(JSON.parse(res.meta as string)).toMatchObject({ status: 201 });
    expect(res.body).not.toContain(TOKEN); // a secret seen once is redacted wherever it turns up later

    const empty = enc({ ...http, connectionId: 'http-10', type: 'http-response', status: 204, headers: [], body: Buffer.alloc(0) });
    expect(empty).toMatchObject({ format: 'empty', body: null });
  });

  it('keeps binary as binary, and non-UTF-8 "text" bodies as bytes', () => {
    const bin = enc({ ...base, platform: 'moltstation', connectionId: 'ws-4', type: 'ws-message', direction: 'platform_to_client', data: Buffer.from([0, 1, 255]), binary: true });
    expect(bin).toMatchObject({ format: 'binary', kind: 'notification' });
    expect(bin.body).toEqual(Buffer.from([0, 1, 255]));
    const bad = enc({ ...base, platform: 'cloudplay', connectionId: 'http-11', type: 'http-response', status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from([0xc3, 0x28]) });
    expect(bad.format).toBe('binary');
    // One decoder serves every body: a body cut mid-character leaves nothing behind for the next one.
    const cut = enc({ ...base, platform: 'cloudplay', connectionId: 'http-14', type: 'http-response', status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from([0x61, 0xe2, 0x82]) });
    expect(cut.format).toBe('binary');
    const next = enc({ ...base, platform: 'cloudplay', connectionId: 'http-15', type: 'http-response', status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from([0xac, 0x21]) });
    expect(next.format).toBe('binary');
    const whole = enc({ ...base, platform: 'cloudplay', connectionId: 'http-16', type: 'http-response', status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from('€ ok') });
    expect(whole).toMatchObject({ format: 'text', body: '€ ok' });
  });

  it('records proxy errors as markers with their stage', () => {
    const e = enc({ ...base, platform: 'spacemolt', connectionId: 'http-12', type: 'proxy-error', stage: 'connect', message: 'upstream refused', status: 502 });
    expect(e).toMatchObject({ kind: 'marker', direction: 'internal', msgType: 'proxy-error', body: 'upstream refused' });
    expect(JSON.parse(e.meta as string)).toEqual({ stage: 'connect', status: 502 });
  });

  it('given the proxy answered an HTTP request itself (platform unreachable), then the exact answer is recorded with the request id, as a marker, never as a platform response', () => {
    enc({ ...base, platform: 'rgs', connectionId: 'http-13', type: 'http-request', method: 'POST', path: '/game/play', headers: [], body: Buffer.from('{"amount":1}') });
    const answer = '{"error":"upstream_unreachable","message":"upstream rgs unreachable (ECONNREFUSED)"}';
    const e = enc({
      ...base,
      platform: 'rgs',
      connectionId: 'http-13',
      type: 'proxy-error',
      stage: 'connect',
      message: 'upstream rgs unreachable (ECONNREFUSED)',
      status: 502,
      answer: {
        headers: [
          ['content-type', 'application/json; charset=utf-8'],
          ['content-length', String(answer.length)],
        ],
        body: Buffer.from(answer),
      },
    });
    expect(e).toMatchObject({ kind: 'marker', direction: 'internal', channel: 'http', msgType: 'proxy-error', format: 'json', body: answer, requestId: 'http-13' });
    expect(JSON.parse(e.meta as string)).toMatchObject({ stage: 'connect', status: 502, answeredBy: 'proxy', message: 'upstream rgs unreachable (ECONNREFUSED)' });
    // The exchange is over: a later fact with the same id is not taken for its response.
    const late = enc({ ...base, platform: 'rgs', connectionId: 'http-13', type: 'http-response', status: 200, headers: [], body: Buffer.alloc(0) });
    expect(late.msgType).toBeNull();
  });

  it('marks a WebSocket message the proxy could not relay (the other leg had closed) as undelivered', () => {
    const e = enc({
      ...base,
      platform: 'moltstation',
      connectionId: 'ws-9',
      type: 'ws-message',
      direction: 'client_to_platform',
      data: '{"t":"action","action":"FLAP"}',
      binary: false,
      undelivered: true,
    });
    expect(e).toMatchObject({ kind: 'input', body: '{"t":"action","action":"FLAP"}' });
    expect(JSON.parse(e.meta as string)).toEqual({ undelivered: true });
    const normal = enc({ ...base, platform: 'moltstation', connectionId: 'ws-9', type: 'ws-message', direction: 'client_to_platform', data: '{"t":"action","action":"FLAP"}', binary: false });
    expect(normal.meta ?? null).toBeNull();
  });
});

describe('FactEncoder: credentials inside URLs in bodies', () => {
  it('redacts a session token first seen in a launch URL, there and in later requests', () => {
    const sut = new FactEncoder(new Redactor(randomBytes(32)));
    const token = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
    const http = { atNs: 1n, wallUs: 1, platform: 'rgs' as const };
    const launch = sut.encode({
      ...http,
      connectionId: 'http-1',
      type: 'http-response',
      status: 200,
      headers: [['content-type', 'application/json']],
      body: Buffer.from(`{"launchUrl":"https://rgs/dice?sessionToken=${token}&id=dice-alpha"}`),
    });
    expect(launch.body).not.toContain(token);
    expect(launch.body).toMatch(/^\{"launchUrl":"https:\/\/rgs\/dice\?sessionToken=\[redacted:[0-9a-f]{16}\]&id=dice-alpha"\}$/);
    const later = sut.encode({ ...http, connectionId: 'http-2', type: 'http-request', method: 'POST', path: '/game/balance', headers: [], body: Buffer.from(`{"note":"${token}"}`) });
    expect(later.body).not.toContain(token);
  });
});
