import { Writable } from 'node:stream';
import { createPino } from './logger';
import { redactUrl } from './redaction';

/** A pino destination that keeps the lines written, parsed. */
function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the logger', () => {
  const bearer = 'Bearer agent-secret-0123456789';
  const token = 'tok_live_9f8e7d6c5b4a';

  it('writes JSON lines with the level name, time and context, and redacts secret headers and fields', () => {
    const out = capture();
    const sut = createPino({ destination: out.stream, level: 'debug', service: 'test' });
    sut.child({ context: 'Proxy' }).info(
      {
        req: {
          method: 'GET',
          url: `/moltstation/api?token=${token}&page=2`,
          headers: { authorization: bearer, cookie: 'sid=abc-cookie-secret', 'x-api-key': 'k3y-very-secret-value', accept: 'application/json' },
        },
        sessionToken: token,
        nested: { apiKey: 'nested-api-key-secret', password: 'hunter2-secret' },
      },
      'relayed',
    );
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', msg: 'relayed', context: 'Proxy', service: 'test', sessionToken: '[redacted]', nested: { apiKey: '[redacted]', password: '[redacted]' } });
    expect(line?.['req']).toMatchObject({
      method: 'GET',
      url: '/moltstation/api?token=[redacted]&page=2',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' },
    });
    expect(typeof line?.['time']).toBe('string');
    for (const secret of ['agent-secret', token, 'abc-cookie-secret', 'k3y-very-secret', 'nested-api-key-secret', 'hunter2']) expect(out.text()).not.toContain(secret);
  });

  it('honours the level', () => {
    const out = capture();
    const sut = createPino({ destination: out.stream, level: 'warn' });
    sut.info('quiet');
    sut.warn('loud');
    expect(out.lines().map((l) => l['msg'])).toEqual(['loud']);
  });

  it('redacts the values of secret-named query parameters and keeps the rest', () => {
    expect(redactUrl('/replay?session=1&token=abc&api_key=def&Access_Token=x')).toBe('/replay?session=1&token=[redacted]&api_key=[redacted]&Access_Token=[redacted]');
    expect(redactUrl('/health/ready')).toBe('/health/ready');
  });
});
