// Opaque page cursors: base64url JSON of the sort key of the last item returned.
import { BadInputError } from '../../errors.js';

export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks every field has the expected type; BAD_USER_INPUT otherwise. */
export function decodeCursor<K extends string>(raw: string, fields: Record<K, 'string' | 'number'>): Record<K, string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new BadInputError('after is not a valid cursor', { after: raw });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new BadInputError('after is not a valid cursor', { after: raw });
  const record = parsed as Record<string, unknown>;
  for (const [field, type] of Object.entries(fields)) {
    if (typeof record[field] !== type) throw new BadInputError('after is not a valid cursor', { after: raw });
  }
  return record as Record<K, string | number>;
}
