import { DOCUMENTATION_HINT, isDocumentationDocument, isSchemaDefinition, objectShape } from './documentation';
import { decodeStringToken, skipWhitespace, stringTokenEnd } from './json-tokens';

/**
 * A byte-preserving scan of JSON / NDJSON text: it finds the values of sensitive keys and replaces only
 * their content, leaving every other character (whitespace, key order, number formats, escapes,
 * newlines between NDJSON objects) exactly as it was. It never parses and re-serialises.
 *
 * Malformed or truncated text is scanned as far as it makes sense; an unterminated sensitive string
 * value is replaced up to the end of the text (better too much than a leaked secret).
 *
 * Documentation is not a credential (`documentation.ts`): a sensitive key whose value is a JSON Schema
 * definition (`"password":{"type":"string","description":"…"}`) keeps it, and a root object that is an
 * OpenAPI / Swagger / JSON Schema document is left whole. Known secrets are still replaced in both, by the
 * Redactor's registry after this scan.
 */
export interface JsonScanRules {
  /** Is the value of `key` (decoded), inside an object held by `parentKey` (or null), a secret? */
  isSensitive(key: string, parentKey: string | null): boolean;
  /** The replacement content for a sensitive string value (decoded); must be valid inside a JSON string. */
  replaceString(value: string, key: string): string;
  /** The replacement for a sensitive number value (its raw text); returned text is inserted as is. */
  replaceNumber(raw: string): string;
}

interface Container {
  key: string | null;
  array: boolean;
  /** Held (directly or further up) by a sensitive key: every string value inside is a secret. */
  sensitive: boolean;
}

const QUOTE = 34;
const COLON = 58;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const NUMBER_TOKEN = /-?[0-9][0-9.eE+-]*/y;

export function redactJsonValues(text: string, rules: JsonScanRules): string {
  const mayHoldDocumentation = DOCUMENTATION_HINT.test(text);
  const stack: Container[] = [];
  let pendingKey: string | null = null;
  let pendingSensitive = false;
  let out = '';
  let copiedTo = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringTokenEnd(text, i);
      const top = stack[stack.length - 1];
      if (end < 0) {
        // Unterminated (truncated text): inside a sensitive container, hide the rest.
        if (top?.sensitive && i + 1 < text.length) {
          out += text.slice(copiedTo, i + 1) + rules.replaceString(text.slice(i + 1), top.key ?? '');
          copiedTo = text.length;
        }
        break;
      }
      const colon = skipWhitespace(text, end + 1);
      if (text.charCodeAt(colon) !== COLON) {
        // A string value: a secret when inside an object or array held by a sensitive key.
        const value = top?.sensitive ? decodeStringToken(text, i, end) : '';
        if (value.length > 0) {
          out += text.slice(copiedTo, i + 1) + rules.replaceString(value, top?.key ?? '');
          copiedTo = end;
        }
        i = end + 1;
        continue;
      }
      const key = decodeStringToken(text, i, end);
      pendingKey = key;
      pendingSensitive = false;
      i = colon + 1;
      if (!rules.isSensitive(key, top ? top.key : null)) continue;
      pendingSensitive = true;
      const v = skipWhitespace(text, i);
      const vc = text.charCodeAt(v);
      if (vc === QUOTE) {
        const vEnd = stringTokenEnd(text, v);
        const close = vEnd < 0 ? text.length : vEnd;
        const value = vEnd < 0 ? text.slice(v + 1) : decodeStringToken(text, v, vEnd);
        if (value.length > 0) {
          out += text.slice(copiedTo, v + 1) + rules.replaceString(value, key);
          copiedTo = close;
        }
        i = vEnd < 0 ? text.length : vEnd + 1;
        pendingKey = null;
        pendingSensitive = false;
      } else if (vc === 45 || (vc >= 48 && vc <= 57)) {
        NUMBER_TOKEN.lastIndex = v;
        const m = NUMBER_TOKEN.exec(text);
        if (m) {
          out += text.slice(copiedTo, v) + rules.replaceNumber(m[0]);
          copiedTo = v + m[0].length;
          i = copiedTo;
        }
        pendingKey = null;
        pendingSensitive = false;
      } else if (vc === OPEN_BRACE) {
        // A schema describing the credential, not one: scanning goes on inside it as in any object.
        const shape = objectShape(text, v);
        if (shape && isSchemaDefinition(shape)) pendingSensitive = false;
      }
      // other objects and arrays: scanning goes on inside them, every string in them redacted; true/false/null stay
      continue;
    }
    if (c === OPEN_BRACE && stack.length === 0 && mayHoldDocumentation) {
      // A root object (the text's, or an NDJSON line's) that is an API description is documentation whole.
      const shape = objectShape(text, i);
      if (shape && isDocumentationDocument(shape)) {
        i = shape.end;
        pendingKey = null;
        pendingSensitive = false;
        continue;
      }
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const top = stack[stack.length - 1];
      // Elements of an array are held by the array's key ({"sessions":[{"id":…}]} → parent "sessions").
      stack.push({
        key: pendingKey ?? (top && top.array ? top.key : null),
        array: c === OPEN_BRACKET,
        sensitive: pendingSensitive || (top?.sensitive ?? false),
      });
      pendingKey = null;
      pendingSensitive = false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
      pendingKey = null;
      pendingSensitive = false;
    } else if (c === COMMA) {
      pendingKey = null;
      pendingSensitive = false;
    }
    i++;
  }
  return copiedTo === 0 ? text : out + text.slice(copiedTo);
}
