/**
 * The client CPU of one pipeline HTTP call (docs/pipeline.md, "What a job's HTTP call costs"): Node's `fetch`
 * (undici, with its WHATWG Request/Response/streams) against `node:http` with a keep-alive agent, the way
 * `recordedCall` calls: a JSON POST answered by a small JSON body, read whole.
 *
 *   node -r ./scripts/register.js libs/pipeline/bench/http-client.ts [calls]
 *
 * The server runs in a child process, so only the client's CPU is counted (user + system per call, median of 3
 * rounds after a warm-up, one call at a time).
 */
import { fork } from 'node:child_process';
import { httpCall } from '../src/http-call';

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => (n += c.length));
  req.on('end', () => {
    const body = JSON.stringify({ id: 'rcpt-' + n, duplicate: false, status: 'accepted', at: new Date().toISOString() });
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

async function cpuPerCall(calls: number, call: () => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await call();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / calls;
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 2000);
  const child = fork('-e', [SERVER], { execArgv: ['-e', SERVER], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const url = `http://127.0.0.1:${port}/api/outcomes`;
  const body = JSON.stringify({ runSessionId: 'a6f1b7e2-0000-4000-8000-000000000000', platform: 'moltstation', game: 'shellrunners', outcome: { score: 120, reason: 'GAME_OVER' } });
  const headers = { 'content-type': 'application/json', 'idempotency-key': 'job-1' };
  const ways: [string, () => Promise<unknown>][] = [
    [
      'fetch (undici)',
      async () => {
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        return JSON.parse(await res.text()) as unknown;
      },
    ],
    ['httpCall (node:http, keep-alive agent)', async () => JSON.parse((await httpCall({ method: 'POST', url, headers, body, timeoutMs: 10_000 })).body) as unknown],
  ];
  for (const [, call] of ways) await cpuPerCall(200, call);
  const results = new Map<string, number[]>();
  for (let round = 0; round < 3; round++) for (const [name, call] of ways) results.set(name, [...(results.get(name) ?? []), await cpuPerCall(calls, call)]);
  console.log(`${calls} calls per way, one at a time, median of 3 rounds (µs of client CPU per call):`);
  for (const [name, r] of results) console.log(`  ${name.padEnd(40)} ${(r.sort((a, b) => a - b)[1] as number).toFixed(1).padStart(7)}   [${r.map((x) => x.toFixed(0)).join(', ')}]`);
  child.kill();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
