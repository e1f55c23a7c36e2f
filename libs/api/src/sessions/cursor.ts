import { BadRequestException } from '@nestjs/common';

/** Opaque keyset cursors: base64url of a small JSON value; a cursor that does not decode is a 400. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(raw: string | undefined, valid: (v: unknown) => v is T): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (valid(v)) return v;
  } catch {
    // fall through
  }
  throw new BadRequestException({ error: 'invalid_cursor', message: 'the cursor is not one this API issued' });
}
