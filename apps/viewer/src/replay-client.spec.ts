import { describeClose, parseServerMessage, ReplayClient, replayUrl, type ServerMessage, type SocketLike } from './replay-client.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(d: string): void {
    this.sent.push(d);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
}

describe('replay client', () => {
  it('given an https page, when the URL is made, then it is wss with the key, speed and fromSeq', () => {
    const u = new URL(replayUrl({ protocol: 'https:', host: 'example.test:8443' }, 'abc', 'k/1', 64, 12));
    expect(u.protocol).toBe('wss:');
    expect(u.pathname).toBe('/replay/abc');
    expect(u.searchParams.get('apiKey')).toBe('k/1');
    expect(u.searchParams.get('speed')).toBe('32');
    expect(u.searchParams.get('fromSeq')).toBe('12');
    expect(replayUrl({ protocol: 'http:', host: 'h' }, 'x', 'k', 1)).toBe('ws://h/replay/x?apiKey=k&speed=1');
    expect(replayUrl({ protocol: 'http:', host: 'h' }, 'x', 'k', 0.1, 0, true)).toBe('ws://h/replay/x?apiKey=k&speed=0.25&follow=1');
  });

  it('given server texts, when parsed, then documented messages pass and others are null', () => {
    expect(parseServerMessage('{"type":"event","seq":3,"offsetUs":10,"kind":"frame","encoding":"utf8","data":"x"}')?.type).toBe('event');
    expect(parseServerMessage('{"type":"end","emitted":4,"lastSeq":4}')?.type).toBe('end');
    expect(parseServerMessage('{"type":"event"}')).toBeNull();
    expect(parseServerMessage('{"type":"nope"}')).toBeNull();
    expect(parseServerMessage('not json')).toBeNull();
  });

  it('given controls sent before the socket opens, when it opens, then they are sent in order', () => {
    let sock: FakeSocket | undefined;
    const got: ServerMessage[] = [];
    const c = new ReplayClient('ws://h/replay/x', { onMessage: (m) => got.push(m), onClose: () => undefined }, (u) => (sock = new FakeSocket(u)));
    c.pause();
    c.seek({ seq: 40 });
    expect(sock?.sent).toEqual([]);
    sock?.open();
    c.setSpeed(100);
    expect(sock?.sent.map((s) => JSON.parse(s))).toEqual([{ type: 'pause' }, { type: 'seek', seq: 40 }, { type: 'speed', speed: 32 }]);
    sock?.onmessage?.({ data: '{"type":"state","state":"paused","speed":1}' });
    expect(got).toEqual([{ type: 'state', state: 'paused', speed: 1 }]);
  });

  it('given a close by the server, when reported, then the handler gets the code unless we closed it', () => {
    const closes: number[] = [];
    let sock: FakeSocket | undefined;
    new ReplayClient('ws://h', { onMessage: () => undefined, onClose: (code) => closes.push(code) }, (u) => (sock = new FakeSocket(u)));
    sock?.onclose?.({ code: 4401, reason: 'bad key' });
    const c2 = new ReplayClient('ws://h', { onMessage: () => undefined, onClose: (code) => closes.push(code) }, (u) => (sock = new FakeSocket(u)));
    c2.close();
    sock?.onclose?.({ code: 1000, reason: '' });
    expect(closes).toEqual([4401]);
    expect(describeClose(4401, '')).toContain('API key');
    expect(describeClose(1000, '')).toBeNull();
  });
});
