import { describeEvent } from './inspector.js';

describe('event inspector', () => {
  it('given a JSON body, when described, then the raw text is kept and the parsed view is pretty JSON', () => {
    const v = describeEvent({ seq: 7, offsetUs: 1_500_000, kind: 'frame', msgType: 'frame', body: '{"t":"frame","frame":{"tick":3}}', encoding: 'utf8' });
    expect(v.title).toBe('#7 frame · frame');
    expect(v.raw).toBe('{"t":"frame","frame":{"tick":3}}');
    expect(v.parsed).toBe(JSON.stringify({ t: 'frame', frame: { tick: 3 } }, null, 2));
    expect(v.fields).toContainEqual(['offset', '0:01.500 (1500000 µs)']);
  });

  it('given a base64 body, when described, then it is decoded', () => {
    const v = describeEvent({ seq: 1, offsetUs: 0, kind: 'response', body: btoa('{"ok":true}'), encoding: 'base64' });
    expect(v.raw).toBe('{"ok":true}');
    expect(v.parsed).toContain('"ok": true');
  });

  it('given a body that is not JSON, when described, then there is no parsed view', () => {
    expect(describeEvent({ seq: 1, offsetUs: 0, kind: 'request', body: 'GET / HTTP/1.1', encoding: 'utf8' }).parsed).toBeNull();
  });
});
