import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIEWER_CSP, viewerAssets } from './viewer-assets';

describe('the viewer assets (pages from public/, modules transpiled from src/)', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rewind-viewer-'));
    mkdirSync(join(dir, 'public'));
    mkdirSync(join(dir, 'src', 'render'), { recursive: true });
    writeFileSync(join(dir, 'public', 'index.html'), '<!doctype html><title>Rewind</title>');
    writeFileSync(join(dir, 'public', 'viewer.css'), 'body { color: #eee; }');
    writeFileSync(join(dir, 'src', 'render', 'flappy.ts'), "import { size } from '../api.js';\nexport const scale = (w: number): number => w / size;\n");
    writeFileSync(join(dir, 'src', 'api.ts'), 'export const size: number = 800;\n');
    writeFileSync(join(dir, 'src', 'api.spec.ts'), "it('x', () => undefined);\n");
    writeFileSync(join(dir, 'src', 'broken.ts'), 'export const = ;\n');
    const assets = viewerAssets(dir);
    server = createServer((req, res) => assets(req, res, () => ((res.statusCode = 418), res.end('next'))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('given GET /, then the index page with the CSP that allows only this origin', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(VIEWER_CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toContain('<title>Rewind</title>');
    expect((await fetch(`${base}/viewer.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('given a module path, then the TypeScript is served as an ES module (types gone, imports kept)', async () => {
    const r = await fetch(`${base}/viewer/render/flappy.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const js = await r.text();
    expect(js).toContain("import { size } from '../api.js'");
    expect(js).toMatch(/export const scale = \(w\)=>w \/ size/);
    expect(js).not.toContain(': number');
  });

  it('given a spec, a missing module or a broken one, then passed on (not served) / 404 / 500 with the reason', async () => {
    expect((await fetch(`${base}/viewer/api.spec.js`)).status).toBe(418);
    expect((await fetch(`${base}/viewer/nothing.js`)).status).toBe(404);
    const broken = await fetch(`${base}/viewer/broken.js`);
    expect(broken.status).toBe(500);
    expect(await broken.json()).toMatchObject({ error: 'viewer_build' });
  });

  it('given anything else (API paths, traversal, other methods, odd names), then it is passed on', async () => {
    for (const path of ['/api/sessions', '/viewer/../api.js', '/viewer/%2e%2e/x.js', '/viewer/API.js', '/missing.html', '/index.htm', '/..%2fpackage.json']) {
      const r = await fetch(`${base}${path}`);
      expect({ path, status: r.status }).toEqual({ path, status: 418 });
    }
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(418);
  });
});
