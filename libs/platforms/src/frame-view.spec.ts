/**
 * `frameView` against `JSON.parse` (seeded, repeatable): given generated messages — frames, inputs and responses of
 * every platform, with the hostile shapes (escaped quotes, keys of the fields' names nested deeper, `\u` escapes in
 * keys and values, duplicate keys, non-ASCII and lone surrogates, every number form, whitespace) — and mutations of
 * them (truncated, a character dropped, inserted or replaced, NDJSON), when scanned, then whenever the scan decides,
 * it says what the full parse says: invalid text is never called JSON, a non-object is `null`, and an object's view
 * holds exactly the parse's fields with its values, so every platform's classifier reads the same from either.
 */
import { frameView } from './frame-view';
import { platformOf } from './registry';
import type { Json } from './frames';
import type { PlatformId } from './platforms';
import { fuzz } from '@rewind/fuzz';

const PLATFORMS: PlatformId[] = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'];
const FIELDS = ['t', 'type', 'request_id', 'frame'];

/** The seeded generator of the fuzz tests (`@rewind/fuzz`), as this spec draws: a failing case is reproduced by its seed. */
function prng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  const f = fuzz(`frame-view-${seed}`);
  return { int: (n) => f.int(0, n - 1), pick: (xs) => f.pick(xs), chance: (p) => f.bool(p) };
}
type Rnd = ReturnType<typeof prng>;

const KEYS = ['t', 'type', 'request_id', 'frame', 'tick', 'x', 'phase', 'payload', '__proto__', '\\u0074', 't\\u0079pe', 'ti\\u0063k', 'fr\\"ame', 'é', 'tïck', '"', ''];
const STRINGS = ['frame', 'input', 'state', 'r-1', '', 'a\\"b', 'a\\\\', '\\u0066rame', '\\ud83d', 'é', '😀', '\ud800', 'tab\\t', '\\/'];
const NUMBERS = ['0', '-0', '1', '-1', '42', '2147483647', '2147483648', '-2147483649', '1.5', '1e3', '1E+2', '1e-2', '-0.0', '1e400', '12345678901234567890', '0.1', '61'];
const WS = ['', ' ', '\n', '\t', '\r\n', '  '];

function value(r: Rnd, depth: number): string {
  const w = (): string => r.pick(WS);
  const roll = r.int(depth > 3 ? 4 : 7);
  if (roll === 0) return `"${r.pick(STRINGS)}"`;
  if (roll === 1) return r.pick(NUMBERS);
  if (roll === 2) return r.pick(['true', 'false', 'null']);
  if (roll === 3) return `"${r.pick(STRINGS)}${r.pick(STRINGS)}"`;
  if (roll === 4 || roll === 5) {
    const members = Array.from({ length: r.int(5) }, () => `${w()}"${r.pick(KEYS)}"${w()}:${w()}${value(r, depth + 1)}${w()}`);
    return `{${members.join(',')}${members.length === 0 ? w() : ''}}`;
  }
  const items = Array.from({ length: r.int(4) }, () => `${w()}${value(r, depth + 1)}${w()}`);
  return `[${items.join(',')}]`;
}

/** A message shaped like the platforms' (a MoltStation frame, an input, a SpaceMolt command or response), hostile bits mixed in. */
function message(r: Rnd): string {
  const w = (): string => r.pick(WS);
  const shape = r.int(5);
  if (shape === 0) return value(r, 0);
  const members: string[] = [];
  const add = (k: string, v: string): number => members.push(`${w()}"${k}"${w()}:${w()}${v}${w()}`);
  if (shape === 1) {
    add('t', r.chance(0.8) ? '"frame"' : value(r, 2));
    const inner = [`"tick":${r.chance(0.8) ? r.pick(NUMBERS) : value(r, 2)}`, `"phase":"${r.pick(['running', 'ended'])}"`, `"bot":{"x":178,"y":286.2,"tick":${r.pick(NUMBERS)}}`];
    if (r.chance(0.3)) inner.push(`"tick":${r.pick(NUMBERS)}`);
    if (r.chance(0.2)) inner.push(`"ti\\u0063k":1`);
    add('frame', r.chance(0.85) ? `{${inner.join(',')}}` : value(r, 1));
  } else if (shape === 2) add('t', `"${r.pick(['input', 'action', 'cmd', 'auth', 'inp\\u0075t'])}"`);
  else {
    add('type', `"${r.pick(STRINGS)}"`);
    if (r.chance(0.6)) add('request_id', r.chance(0.8) ? `"req-${r.int(100)}"` : value(r, 2));
    add('payload', value(r, 1));
  }
  for (let k = r.int(3); k > 0; k--) add(r.pick(KEYS), value(r, 1));
  if (r.chance(0.3)) members.sort(() => r.int(3) - 1);
  return `${w()}{${members.join(',')}}${w()}`;
}

function mutate(r: Rnd, text: string): string {
  const at = r.int(text.length + 1);
  switch (r.int(6)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + r.pick(['"', '\\', ',', '}', ']', '{', ':', '0', '-', '.', 'e', ' ', '\u0000', '\u001f', '\u00a0', '\ufeff', '\ud800', 'x']) + text.slice(at);
    case 3:
      return `${text}\n${text}`;
    case 4:
      return text.slice(0, at) + r.pick(['t', 'f', 'n', 'tru', 'nul', 'fals']) + text.slice(at + 1);
    default:
      return `${text}${r.pick([' ', 'x', ',', '}', '0'])}`;
  }
}

/** What the view must be, from the full parse: the fields present, containers as empty ones (`frame` keeps its `tick`). */
function project(parsed: Json): Json {
  const out: Json = {};
  const shallow = (v: unknown): unknown => (Array.isArray(v) ? [] : v !== null && typeof v === 'object' ? {} : v);
  for (const f of FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(parsed, f)) continue;
    const v = parsed[f];
    if (f === 'frame' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const frame = v as Json;
      out[f] = Object.prototype.hasOwnProperty.call(frame, 'tick') ? { tick: shallow(frame['tick']) } : {};
    } else out[f] = shallow(v);
  }
  return out;
}

function check(text: string, where: string): 'decided' | 'parsed' | 'invalid' {
  let parsed: unknown;
  let valid = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    valid = false;
  }
  const v = frameView(text);
  if (v === undefined) return valid ? 'parsed' : 'invalid';
  if (!valid) expect({ where, text, view: v }).toEqual({ where, text, view: 'undefined: the parse refuses this text' });
  const object = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : null;
  if (object === null) {
    if (v !== null) expect({ where, text, view: v }).toEqual({ where, text, view: null });
    return 'decided';
  }
  const expected = project(object);
  if (v === null) expect({ where, text, view: v }).toEqual({ where, text, view: expected });
  else {
    // toEqual tells 0 from -0, [] from {}; Object.keys the fields present.
    expect({ where, text, view: v, keys: Object.keys(v).sort() }).toEqual({ where, text, view: expected, keys: Object.keys(expected).sort() });
    for (const p of PLATFORMS) {
      for (const fromClient of [true, false]) {
        const frames = platformOf(p).frames;
        const a = frames.classify(fromClient, v);
        const b = frames.classify(fromClient, object);
        if (JSON.stringify(a) !== JSON.stringify(b)) expect({ where, text, platform: p, fromClient, classified: a }).toEqual({ where, text, platform: p, fromClient, classified: b });
      }
    }
  }
  return 'decided';
}

describe('frameView against JSON.parse', () => {
  it('given generated messages and their mutations (seeded), when scanned, then every decision is the full parse’s, and the fields read are its values', () => {
    const counts = { decided: 0, parsed: 0, invalid: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const r = prng(seed);
      const text = message(r);
      counts[check(text, `seed ${seed}`)]++;
      for (let m = 0; m < 4; m++) counts[check(mutate(r, text), `seed ${seed} mutation ${m}`)]++;
    }
    // Of the valid texts, the scan decides most (the rest hold an unclear field): it is not a parse in disguise.
    expect(counts.decided).toBeGreaterThan(counts.parsed);
    expect(counts.invalid).toBeGreaterThan(3000);
  });

  it('given the hostile shapes one by one, then the view is the parse’s or the parse decides', () => {
    const cases: [string, Json | null | undefined | 'either'][] = [
      ['{"t":"frame","frame":{"tick":61}}', { t: 'frame', frame: { tick: 61 } }],
      ['{"t":"a","t":"frame"}', { t: 'frame' }],
      ['{"frame":{"tick":1},"frame":{"phase":"x"}}', { frame: {} }],
      ['{"frame":{"tick":1,"tick":2}}', { frame: { tick: 2 } }],
      ['{"frame":{"bot":{"tick":5}},"x":{"tick":6},"tick":7}', { frame: {} }],
      ['{"payload":{"t":"input","type":"x"},"type":"mine"}', { type: 'mine' }],
      ['{"\\u0074":"frame"}', undefined],
      ['{"t":"fr\\u0061me"}', undefined],
      ['{"t":"a\\"b"}', undefined],
      ['{"t":"é"}', undefined],
      ['{"x":"é\ud800😀","t":"frame"}', { t: 'frame' }],
      ['{"x":"a\\"}","t":"input"}', { t: 'input' }],
      ['{"frame":{"tick":-0}}', { frame: { tick: -0 } }],
      ['{"frame":{"tick":1e400}}', { frame: { tick: Infinity } }],
      ['{"frame":[{"tick":1}]}', { frame: [] }],
      ['{"frame":"tick"}', { frame: 'tick' }],
      ['{"__proto__":{"t":"x"},"t":"y"}', { t: 'y' }],
      ['[{"t":"frame"}]', null],
      ['"frame"', null],
      ['61', null],
      [' {"t" : "input" } \r\n', { t: 'input' }],
      ['{"t":"input"}\n{"t":"input"}', undefined],
      ['{"t":"input"', undefined],
      ['{"t":"input",}', undefined],
      ['{"t":01}', undefined],
      ['{"t":1.}', undefined],
      ['{"t":tru}', undefined],
      ['{"t":"a\u0001"}', undefined],
      ['\ufeff{"t":"input"}', undefined],
      ['', undefined],
      ['{"t":"x"}x', undefined],
    ];
    for (const [text, expected] of cases) {
      expect({ text, view: frameView(text) }).toEqual({ text, view: expected });
      check(text, 'hostile');
    }
  });

  it('given the same message scanned after a longer one, then bytes the longer one left behind are not read as its own', () => {
    expect(frameView(`{"t":"x","pad":"${'1'.repeat(500)}"}`)).toEqual({ t: 'x' });
    expect(frameView('{"t":1')).toBeUndefined();
    expect(frameView(`{"frame":{"tick":1${'2'.repeat(600)}}}`)).toEqual({ frame: { tick: Number(`1${'2'.repeat(600)}`) } });
    expect(frameView('{"t":tr')).toBeUndefined();
    expect(frameView('{"t":"\\u00')).toBeUndefined();
    expect(frameView('{"frame":{"tick":12')).toBeUndefined();
  });
});
