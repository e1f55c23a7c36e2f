import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redactor } from './redactor';
import { fingerprintOf } from './fingerprint';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const fp = (secret: string): string => fingerprintOf(KEY, secret);

/** What the output must be: the input with exactly the given raw occurrences replaced, nothing else changed. */
function expectedFrom(text: string, replacements: [raw: string, secret: string][]): string {
  return replacements.reduce((t, [raw, secret]) => t.split(raw).join(fp(secret)), text);
}

describe('Redactor.redactText', () => {
  it('given MoltStation’s auth message, when redacted, then only the token value changes', () => {
    const r = new Redactor(KEY);
    const text = '{"t":"auth","token":"mst_play_9f8e7d6c5b4a"}';
    const out = r.redactText(text);
    expect(out).toBe(`{"t":"auth","token":"${fp('mst_play_9f8e7d6c5b4a')}"}`);
    expect(out).not.toContain('mst_play_9f8e7d6c5b4a');
  });

  it('given secrets nested, in arrays and under differently cased keys, when redacted, then every other byte is unchanged', () => {
    const r = new Redactor(KEY);
    const text =
      '{ "a" : 1.50e+3, "PlayToken" :\t"pt-AAAA1111", "nested": {"deeper": [ {"accessToken":"at-BBBB2222"}, {"x": -0.0} ] },\n' +
      '  "list": [{"password": "hunter2-CCCC"}, {"refresh_token":"rt-DDDD3333"}], "REGISTRATION_CODE":"rc-EEEE4444", "ok": true, "n": null }';
    const out = r.redactText(text);
    const secrets = ['pt-AAAA1111', 'at-BBBB2222', 'hunter2-CCCC', 'rt-DDDD3333', 'rc-EEEE4444'];
    for (const s of secrets) expect(out).not.toContain(s);
    expect(out).toBe(
      expectedFrom(
        text,
        secrets.map((s) => [s, s]),
      ),
    );
    expect(JSON.parse(out).a).toBe(1500);
  });

  it('given a secret holding escaped quotes, backslashes and unicode, when redacted, then the fingerprint is of the decoded value', () => {
    const r = new Redactor(KEY);
    const raw = 'p\\"ä\\\\ss\\u00e9🔑';
    const decoded = JSON.parse(`"${raw}"`) as string;
    const text = `{"note":"say \\"token\\": not a key","password":"${raw}","name":"Zoë"}`;
    const out = r.redactText(text);
    expect(out).toBe(`{"note":"say \\"token\\": not a key","password":"${fp(decoded)}","name":"Zoë"}`);
  });

  it('given a key written with escapes, when redacted, then it is still recognised', () => {
    const r = new Redactor(KEY);
    const out = r.redactText('{"to\\u006ben":"escaped-key-secret"}');
    expect(out).toBe(`{"to\\u006ben":"${fp('escaped-key-secret')}"}`);
  });

  it('given an NDJSON batch, when redacted, then each line keeps its bytes and newlines', () => {
    const r = new Redactor(KEY);
    const text = '{"type":"login","payload":{"username":"ada","password":"pw-12345678"}}\n{"type":"ok"}\r\n\n{"type":"register","payload":{"registration_code":"RC-ABCDEFGH"}}\n';
    const out = r.redactText(text);
    expect(out).toBe(
      expectedFrom(text, [
        ['pw-12345678', 'pw-12345678'],
        ['RC-ABCDEFGH', 'RC-ABCDEFGH'],
      ]),
    );
    expect(out.split('\n')).toHaveLength(5);
  });

  it('given a numeric secret, when redacted, then it becomes a quoted fingerprint', () => {
    const r = new Redactor(KEY);
    expect(r.redactText('{"secret": 12345678901, "tick": 5}')).toBe(`{"secret": "${fp('12345678901')}", "tick": 5}`);
  });

  it('given an authorization value in JSON, when redacted, then the scheme is kept', () => {
    const r = new Redactor(KEY);
    expect(r.redactText('{"Authorization":"Bearer abc.def.ghi-123"}')).toBe(`{"Authorization":"Bearer ${fp('abc.def.ghi-123')}"}`);
  });

  it('given a truncated frame whose secret is unterminated, when redacted, then the secret does not survive', () => {
    const r = new Redactor(KEY);
    const out = r.redactText('{"t":"auth","token":"half-a-token-xyz');
    expect(out).toBe(`{"t":"auth","token":"${fp('half-a-token-xyz')}`);
  });

  it('given a sensitive key holding an object or array, when redacted, then every string inside is a secret and keys, numbers and literals stay', () => {
    const r = new Redactor(KEY);
    const text = '{"token":{"value":"tv-12345678","kind":"play","ttl":60,"ok":true},"apiKey":["k1-aaaaaaaa", {"k":"k2-bbbbbbbb"}],"x":"visible"}';
    const out = r.redactText(text);
    expect(out).toBe(`{"token":{"value":"${fp('tv-12345678')}","kind":"${fp('play')}","ttl":60,"ok":true},"apiKey":["${fp('k1-aaaaaaaa')}", {"k":"${fp('k2-bbbbbbbb')}"}],"x":"visible"}`);
    expect(r.redactText('{"secret":["half-a-secr')).toBe(`{"secret":["${fp('half-a-secr')}`);
  });

  it('given empty or null sensitive values and non-JSON text, when redacted, then nothing changes', () => {
    const r = new Redactor(KEY);
    for (const text of ['{"token":""}', '{"token":null}', 'plain text, no quotes', '', '{"token":{"v":1}}', '{"token":[]}']) {
      expect(r.redactText(text)).toBe(text);
    }
  });

  it('given the same text twice, when redacted again, then the result is unchanged (idempotent)', () => {
    const r = new Redactor(KEY);
    const once = r.redactText('{"token":"idempotent-secret", "b":"idempotent-secret"}');
    expect(once).toBe(`{"token":"${fp('idempotent-secret')}", "b":"${fp('idempotent-secret')}"}`);
    expect(r.redactText(once)).toBe(once);
  });

  it('given the same, different and differently keyed secrets, then fingerprints are equal, different and different', () => {
    const a = new Redactor(KEY);
    const b = new Redactor(OTHER_KEY);
    const f1 = a.redactText('{"token":"same-secret-1"}');
    const f2 = a.redactText('{"token" : "same-secret-1"}').replace(' : ', ':');
    const f3 = a.redactText('{"token":"same-secret-2"}');
    const f4 = b.redactText('{"token":"same-secret-1"}');
    expect(f1).toBe(f2);
    expect(f1).not.toBe(f3);
    expect(f1).not.toBe(f4);
    expect(a.fingerprint('same-secret-1')).toMatch(/^\[redacted:[0-9a-f]{16}\]$/);
  });

  it('given a SpaceMolt session object, when redacted, then session.id is a credential but other ids are not', () => {
    const r = new Redactor(KEY);
    const text = '{"result":{},"session":{"id":"0123456789abcdef0123456789abcdef","player_id":"p1"},"player":{"id":"p1"}}';
    const out = r.redactText(text);
    expect(out).toBe(expectedFrom(text, [['0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef']]));
    expect(r.redactHeaders([['X-Session-Id', '0123456789abcdef0123456789abcdef']])).toEqual([['X-Session-Id', fp('0123456789abcdef0123456789abcdef')]]);
  });

  it('given a configured key list, when redacted, then only those keys are secrets', () => {
    const r = new Redactor(KEY, { keys: ['session_id'], paths: [] });
    const text = '{"session_id":"sess-credential-1","token":"not-a-secret-here"}';
    expect(r.redactText(text)).toBe(`{"session_id":"${fp('sess-credential-1')}","token":"not-a-secret-here"}`);
  });

  it('given random documents with secrets in every position and random formatting, then no secret survives and every other byte is kept', () => {
    const r = new Redactor(KEY);
    const keys = ['token', 'sessionToken', 'spectateToken', 'apiKey', 'secret', 'password', 'registrationCode'];
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const secrets: string[] = [];
      const build = (depth: number): unknown => {
        const kind = rand(depth > 3 ? 2 : 4);
        if (kind === 0) return rand(1000) / 7;
        if (kind === 1) return ['plain', 'tëxt "quoted"', 'a\\b', '🎮'][rand(4)];
        if (kind === 2) return Array.from({ length: rand(4) }, () => build(depth + 1));
        const o: Record<string, unknown> = {};
        for (let i = 0; i < rand(5); i++) {
          if (rand(3) === 0) {
            const s = `s${round}-${randomBytes(6).toString('hex')}${['', '"q', '\\', 'ü'][rand(4)]}`;
            secrets.push(s);
            o[keys[rand(keys.length)] as string] = s;
          } else o[`k${i}`] = build(depth + 1);
        }
        return o;
      };
      const doc = { root: build(0), token: `root-${round}-${randomBytes(4).toString('hex')}` };
      secrets.push(doc.token);
      const text = JSON.stringify(doc, null, [0, 2, '\t'][rand(3)] as number | string);
      const out = r.redactText(text);
      for (const s of secrets) {
        expect(out).not.toContain(JSON.stringify(s).slice(1, -1));
      }
      const expected = secrets.reduce((t, s) => t.split(JSON.stringify(s)).join(JSON.stringify(fp(s))), text);
      expect(out).toBe(expected);
    }
  });
});

describe('Redactor.redactText: documentation is not a credential', () => {
  const SPEC_DIR = join(__dirname, '../../simulator/assets/spacemolt');

  it('given a tool listing whose JSON Schema describes password, token and registration_code, when redacted, then every byte is kept and nothing is learnt as a secret', () => {
    const r = new Redactor(KEY);
    const text =
      '{"tools":[{"name":"login","inputSchema":{"type":"object","properties":{"username":{"type":"string"},"password":{"type":"string","description":"Your password, as given at registration","minLength":8,"x-positional-index":2},' +
      '"token":{"description":"Short-lived login token","type":["string","null"]},"registration_code":{"$ref":"#/components/schemas/RegistrationCode"},"apiKey":{"oneOf":[{"type":"string"},{"type":"null"}]},' +
      '"secret":{"type":"object","properties":{"value":{"type":"string","example":"documented-example"}}}},"required":["username","password"]}}]}';
    expect(r.redactText(text)).toBe(text);
    expect(r.registry.size).toBe(0);
  });

  it('given credentials beside schemas, in objects that are not schemas and in a truncated schema, when redacted, then those are still redacted', () => {
    const r = new Redactor(KEY);
    const schema = '"inputSchema":{"properties":{"password":{"type":"string","description":"Your password, as given at registration"}}}';
    const text =
      `{${schema},"arguments":{"username":"ada","password":"hunter2-secret"},"token":{"type":"bearer","value":"tok-AAAA1111"},` +
      '"apiKey":{"type":"bearer","description":"issued-key-BBBB2222"},"secret":{"type":"string","description":"desc-CCCC3333","hidden":"hid-DDDD4444"}}';
    const f = (secret: string): string => `"${fp(secret)}"`;
    expect(r.redactText(text)).toBe(
      `{${schema},"arguments":{"username":"ada","password":${f('hunter2-secret')}},"token":{"type":${f('bearer')},"value":${f('tok-AAAA1111')}},` +
        `"apiKey":{"type":${f('bearer')},"description":${f('issued-key-BBBB2222')}},"secret":{"type":${f('string')},"description":${f('desc-CCCC3333')},"hidden":${f('hid-DDDD4444')}}}`,
    );
    const truncated = '{"properties":{"password":{"type":"string","description":"cut-off-EEEE5555';
    expect(r.redactText(truncated)).toBe(`{"properties":{"password":{"type":"${fp('string')}","description":"${fp('cut-off-EEEE5555')}`);
  });

  it('given an OpenAPI document whose examples hold credential-named keys, when redacted, then it is kept whole; a login on the next NDJSON line is still redacted', () => {
    const r = new Redactor(KEY);
    const doc =
      '{"components":{"examples":{"login":{"value":{"username":"ada","password":"example-password"}}},"schemas":{"Token":{"type":"object","properties":{"token":{"type":"string"}}}}},' +
      '"info":{"title":"x","version":"1"},"openapi":"3.0.3","paths":{"/login":{"post":{"parameters":[{"name":"token","in":"query","example":"example-token-value"}]}}}}';
    expect(r.redactText(doc)).toBe(doc);
    const login = '{"type":"login","payload":{"username":"ada","password":"real-password-1"}}';
    expect(r.redactText(`${doc}\n${login}\n`)).toBe(`${doc}\n${expectedFrom(login, [['real-password-1', 'real-password-1']])}\n`);
  });

  it('given objects that only look like API descriptions, when redacted, then their credentials are redacted', () => {
    const r = new Redactor(KEY);
    for (const [text, secret] of [
      ['{"openapi":"3.0.3","password":"no-info-pass-1"}', 'no-info-pass-1'],
      ['{"openapi":"latest","info":{},"password":"bad-version-2"}', 'bad-version-2'],
      ['{"$schema":"my-own","token":"not-a-dialect-3"}', 'not-a-dialect-3'],
      ['{"result":{"openapi":"3.0.3","info":{},"token":"nested-doc-4"}}', 'nested-doc-4'],
      ['{"openapi":"3.0.3","info":{},"token":"truncated-doc-5', 'truncated-doc-5'],
    ] as const) {
      expect(r.redactText(text)).toBe(expectedFrom(text, [[secret, secret]]));
    }
  });

  it('given a secret learnt in an authentication exchange, when a documentation body repeats it, then it is replaced there too', () => {
    const r = new Redactor(KEY);
    r.redactText('{"type":"register","payload":{"username":"ada","registration_code":"RC-KNOWN-12345"}}');
    r.redactText('{"type":"registered","payload":{"password":"known-pass-67890","player_id":"p1"}}');
    const doc = '{"info":{"description":"try RC-KNOWN-12345"},"openapi":"3.0.3","components":{"schemas":{"Login":{"properties":{"password":{"type":"string","example":"known-pass-67890"}}}}}}';
    expect(r.redactText(doc)).toBe(
      expectedFrom(doc, [
        ['RC-KNOWN-12345', 'RC-KNOWN-12345'],
        ['known-pass-67890', 'known-pass-67890'],
      ]),
    );
  });

  it.each(['openapi-v1.v0.327.2.json', 'openapi-v2.v0.327.2.json'])('given SpaceMolt’s %s, when redacted, then it is byte-exact', (file) => {
    const r = new Redactor(KEY);
    const text = readFileSync(join(SPEC_DIR, file), 'utf8');
    expect(r.redactText(text) === text).toBe(true);
    expect(r.redactBody(Buffer.from(text)).equals(Buffer.from(text))).toBe(true);
    expect(r.registry.size).toBe(0);
    // The schemas alone (not as a whole document) are kept too: the rule for property definitions holds by itself.
    const wrapped = JSON.stringify({ components: (JSON.parse(text) as { components: unknown }).components }, null, 2);
    expect(wrapped).toMatch(/"password": \{\s+"type": "string"/);
    expect(r.redactText(wrapped) === wrapped).toBe(true);
  });
});
