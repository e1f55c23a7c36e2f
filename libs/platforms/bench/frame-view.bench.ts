/**
 * Micro-benchmark of reading a WebSocket message for classification (not a test; run once by hand):
 *   node -r ./scripts/register.js libs/platforms/bench/frame-view.bench.ts
 * CPU µs per message: `JSON.parse` of the whole message (what the encoder did) against `frameView` (one validating
 * scan of its UTF-8 bytes reading only the fields the classifiers read), for FlappyBots-like frames of ~740
 * characters (as the simulator sends them), a 60-byte input and a SpaceMolt command.
 */
import { frameView } from '../src/frame-view';

/** Frames shaped like the simulator's FlappyBots frames (`{t:"frame", frame:{…}}`), ~740 characters, varying ticks. */
const frames = Array.from({ length: 200 }, (_, i) =>
  JSON.stringify({
    t: 'frame',
    frame: {
      v: 1,
      tick: i,
      tMs: i * 50,
      phase: 'running',
      bot: { x: 178, y: 286.2 + i / 10, velocityY: 216 - i, rotation: 0.3375 },
      score: { current: i >> 3, high: 12 },
      latestAction: i % 3 ? 'NOOP' : 'FLAP',
      observation: {
        tick: i,
        botY: 286.2,
        botVelocityY: 216,
        nextObstacleX: 464.5,
        nextGapCenterY: 236.588,
        nextGapTopY: 148.588,
        nextGapBottomY: 324.588,
        distanceToNextObstacle: 286.5,
        score: i >> 3,
        alive: true,
      },
      obstacles: Array.from({ length: 3 }, (_, k) => ({ id: `ob-${i + k}`, x: 464.5 + k * 220, gapCenterY: 236.588 + k, gapTopY: 148.588, gapBottomY: 324.588, passed: false })),
      events: [],
      spectators: { current: 1, max: 10 },
    },
  }),
);

/** CPU time (user + system) per call: on a shared machine it is disturbed far less than wall time. */
function usPer(fn: () => void, minMs = 400): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minMs * 1000) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    const used = process.cpuUsage(start);
    elapsed = used.user + used.system;
  }
  return elapsed / n;
}

let k = 0;
let sink = 0;
const avg = Math.round(frames.reduce((s, f) => s + f.length, 0) / frames.length);
const rows = ['| message | `JSON.parse` µs | `frameView` µs |', '|---|---:|---:|'];
for (let r = 0; r < 3; r++) {
  const parse = usPer(() => (sink += JSON.parse(frames[k++ % frames.length] as string) ? 1 : 0));
  const view = usPer(() => (sink += frameView(frames[k++ % frames.length] as string) ? 1 : 0));
  rows.push(`| frame, ${avg} characters (run ${r + 1}) | ${parse.toFixed(2)} | ${view.toFixed(2)} |`);
}
for (const text of ['{"t":"action","action":"FLAP","clientTs":1765158000123,"seq":42}', '{"type":"mine","request_id":"req-7","payload":{"target":"asteroid-3"}}']) {
  rows.push(`| ${text.length}-character message | ${usPer(() => (sink += JSON.parse(text) ? 1 : 0)).toFixed(2)} | ${usPer(() => (sink += frameView(text) ? 1 : 0)).toFixed(2)} |`);
}
console.log(rows.join('\n'));
if (sink === 0) console.log('');
