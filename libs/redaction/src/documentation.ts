import { decodeStringToken, skipWhitespace, stringTokenEnd } from './json-tokens';

/**
 * What tells documentation apart from a credential, for the JSON scan: a key named like a secret
 * (`password`, `token`, `registration_code`) is also how an API *describes* that credential — an OpenAPI
 * request schema `{"password":{"type":"string","description":"…"}}`, a tool's JSON Schema — and those
 * texts are not secrets. Both tests look only at an object's own keys (and a few of their values), read
 * ahead from its opening brace without parsing; neither changes a byte.
 */

/** The direct keys of the object opening at `text[open]` (`{`), with the value of each key that the tests read. */
export interface ObjectShape {
  /** Index just past the closing brace. */
  end: number;
  /** Each direct key (decoded) → its value when a string, or an array of strings, else null. */
  keys: Map<string, string | string[] | null>;
}

const QUOTE = 34;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** The strings of a flat array `["a","b"]` opening at `open`, or null if it holds anything else. */
function flatStringArray(text: string, open: number): string[] | null {
  const out: string[] = [];
  let i = skipWhitespace(text, open + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return out;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return null;
    const end = stringTokenEnd(text, i);
    if (end < 0) return null;
    out.push(decodeStringToken(text, i, end));
    i = skipWhitespace(text, end + 1);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACKET) return out;
    if (c !== 44) return null;
    i = skipWhitespace(text, i + 1);
  }
}

/**
 * Reads the object opening at `text[open]` to its closing brace (nested values skipped), or null when it
 * is unterminated (a truncated frame: never documentation, so a secret in it stays redacted).
 */
export function objectShape(text: string, open: number): ObjectShape | null {
  const keys = new Map<string, string | string[] | null>();
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringTokenEnd(text, i);
      if (end < 0) return null;
      if (depth === 1) {
        const colon = skipWhitespace(text, end + 1);
        if (text.charCodeAt(colon) === COLON) {
          const key = decodeStringToken(text, i, end);
          const v = skipWhitespace(text, colon + 1);
          const vc = text.charCodeAt(v);
          let value: string | string[] | null = null;
          if (vc === QUOTE) {
            const vEnd = stringTokenEnd(text, v);
            if (vEnd < 0) return null;
            value = decodeStringToken(text, v, vEnd);
            i = vEnd + 1;
          } else {
            if (vc === OPEN_BRACKET) value = flatStringArray(text, v);
            i = v;
          }
          keys.set(key, value);
          continue;
        }
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return { end: i + 1, keys };
    }
    i++;
  }
  return null;
}

/** JSON Schema (draft 4 … 2020-12) and OpenAPI 3 Schema Object keywords: the only keys a property definition holds (besides `x-…` extensions). */
const SCHEMA_KEYWORDS = new Set([
  '$ref',
  '$id',
  '$schema',
  '$comment',
  '$anchor',
  '$defs',
  'definitions',
  'title',
  'description',
  'type',
  'format',
  'enum',
  'const',
  'default',
  'example',
  'examples',
  'nullable',
  'readOnly',
  'writeOnly',
  'deprecated',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'required',
  'minProperties',
  'maxProperties',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'discriminator',
  'xml',
  'externalDocs',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
]);
/** At least one of these says what the value is: without one, an object of only annotation keys (`description`, `default`) is not taken for a schema. */
const DEFINING_KEYWORDS = ['$ref', 'oneOf', 'anyOf', 'allOf', 'not', 'enum', 'const', 'items', 'properties'];
const SCHEMA_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * Is this object a JSON Schema definition — `{"type":"string","description":"…"}` under
 * `properties.password` — rather than a credential held in an object (`{"token":{"value":"…","kind":"play"}}`)?
 * Every key must be a schema keyword or an `x-` extension, and one must define the value: a `type` naming
 * JSON Schema types, or `$ref`, a combinator, `enum`, `const`, `items` or `properties`.
 */
export function isSchemaDefinition(shape: ObjectShape): boolean {
  if (shape.keys.size === 0) return false;
  for (const key of shape.keys.keys()) if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-')) return false;
  const type = shape.keys.get('type');
  if (typeof type === 'string' && SCHEMA_TYPES.has(type)) return true;
  if (Array.isArray(type) && type.length > 0 && type.every((t) => SCHEMA_TYPES.has(t))) return true;
  return DEFINING_KEYWORDS.some((k) => shape.keys.has(k));
}

/** A quick test on the whole text: can it hold a documentation document at all? */
export const DOCUMENTATION_HINT = /"(?:openapi|swagger|\$schema)"/;

/**
 * Is this object (the root of a JSON text, or of one NDJSON line) an API description: an OpenAPI 3
 * (`"openapi":"3.…"` with `info`) or Swagger 2 (`"swagger":"2.0"` with `info`) document, or a JSON Schema
 * document (`"$schema"` naming a json-schema.org dialect)? Its examples, defaults and descriptions are
 * documentation, however their keys are named.
 */
export function isDocumentationDocument(shape: ObjectShape): boolean {
  const openapi = shape.keys.get('openapi');
  const swagger = shape.keys.get('swagger');
  const schema = shape.keys.get('$schema');
  if (typeof openapi === 'string' && /^3\.\d/.test(openapi) && shape.keys.has('info')) return true;
  if (swagger === '2.0' && shape.keys.has('info')) return true;
  return typeof schema === 'string' && /^https?:\/\/json-schema\.org\//.test(schema);
}
