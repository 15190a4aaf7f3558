/** A plain JSON object as documents and configs load it: not null, not an array (ajv's and the parser's `isObject`). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
