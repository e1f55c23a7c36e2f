import { createServer, Server } from 'node:http';
import { connect } from 'node:net';
import type { HttpAdapterHost } from '@nestjs/core';
import { freePorts } from '@rewind/testing';
import { ReplayPlatformListeners, rootToGatewayPath } from './platform-listeners';

describe('rootToGatewayPath: a root path of a per-platform replay port onto the gateway’s path', () => {
  it.each([
    ['moltstation', '/ws/flappybots/spectate?sessionId=s1&token=t', true, '/replay/moltstation/ws/flappybots/spectate?sessionId=s1&token=t'],
    ['moltstation', '/ws/shellrunners/spectate', true, '/replay/moltstation/ws/shellrunners/spectate'],
    ['moltstation', '/api/games/flappybots/sessions/s1/spectate-token', false, '/replay/moltstation/api/games/flappybots/sessions/s1/spectate-token'],
    ['moltstation', '/api/games/flappybots/sessions/s1/spectate-token-public?x=1', false, '/replay/moltstation/api/games/flappybots/sessions/s1/spectate-token-public?x=1'],
    ['spacemolt', '/ws?sessionId=abc&speed=2', true, '/replay/spacemolt/ws?sessionId=abc&speed=2'],
  ] as const)('%s %s (upgrade: %s) → %s', (platform, url, upgrade, expected) => {
    expect(rootToGatewayPath(platform, url, upgrade)).toBe(expected);
  });

  it.each([
    ['moltstation', '/ws/flappybots/play?sessionId=s1', true],
    ['moltstation', '/ws/flappybots/spectate', false],
    ['moltstation', '/api/games/flappybots/sessions/s1/spectate-token', true],
    ['moltstation', '/ws', true],
    ['moltstation', '/replay/moltstation/ws/flappybots/spectate', true],
    ['moltstation', '/x/../../replay/spacemolt/ws', true],
    ['moltstation', '/api/sessions', false],
    ['spacemolt', '/ws', false],
    ['spacemolt', '/ws/flappybots/spectate', true],
    ['spacemolt', '/api/games/flappybots/sessions/s1/spectate-token', false],
    ['spacemolt', '/', true],
  ] as const)('%s %s (upgrade: %s) is not served', (platform, url, upgrade) => {
    expect(rootToGatewayPath(platform, url, upgrade)).toBeNull();
  });
});

describe('ReplayPlatformListeners', () => {
  const refused = (port: number) =>
    new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(false)));
      c.once('error', () => resolve(true));
    });

  it('given a port already in use, then the start fails naming its variable and leaves no listener behind', async () => {
    const [molt, busyPort] = (await freePorts(2)) as [number, number];
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', r));
    const api = createServer();
    const sut = new ReplayPlatformListeners({ httpAdapter: { getHttpServer: () => api } } as unknown as HttpAdapterHost, { moltstation: molt, spacemolt: busyPort });
    try {
      await expect(sut.onApplicationBootstrap()).rejects.toThrow(`the SpaceMolt replay port 127.0.0.1:${busyPort} (REWIND_REPLAY_PORT_SPACEMOLT) cannot listen: EADDRINUSE`);
      expect(sut.addresses()).toEqual({});
      expect(await refused(molt)).toBe(true); // MoltStation's, opened first, was closed again
    } finally {
      await sut.onModuleDestroy();
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('given no ports (or 0), then nothing listens', async () => {
    const sut = new ReplayPlatformListeners({ httpAdapter: { getHttpServer: () => createServer() } } as unknown as HttpAdapterHost, { moltstation: 0 });
    await sut.onApplicationBootstrap();
    expect(sut.addresses()).toEqual({});
    await sut.onModuleDestroy();
  });
});
