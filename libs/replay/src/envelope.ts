import type { ReplayRow } from '@rewind/event-store';

/**
 * The documented envelope of `/replay/:sessionId` (docs/replay.md): one stored event as the gateway sends it. Kept
 * here, beside the engine, so that the replay gateway and `rewind bench replay`'s floor server send the same bytes.
 */
export function envelope(e: ReplayRow) {
  const binary = Buffer.isBuffer(e.body);
  return {
    type: 'event',
    seq: e.seq,
    offsetUs: e.offsetUs,
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    msgType: e.msgType,
    tick: e.tick,
    format: e.format,
    encoding: binary ? 'base64' : 'utf8',
    data: binary ? (e.body as Buffer).toString('base64') : e.body,
  };
}
