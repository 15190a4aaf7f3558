/** RFC 6901 JSON pointers. */
export function escapeSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => '/' + escapeSegment(s)).join('');
}

/**
 * The segments of a JSON pointer as this tool writes them (RFC 6901: only `~0` and `~1` escapes).
 * Keys may hold any character, `%` included, so no URI decoding happens here: a key `100%` or
 * `%41` is itself. Pointers written in a `$ref` are URI fragments: read them with `parseRefPointer`.
 */
export function parsePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  const body = pointer.startsWith('#') ? pointer.slice(1) : pointer;
  if (!body.startsWith('/')) throw new Error(`not a JSON pointer: ${pointer}`);
  return body.slice(1).split('/').map(unescapeSegment);
}

/** The segments of the JSON pointer in a `$ref`'s fragment, which is URI-encoded (`#/a%20b` → `a b`). */
export function parseRefPointer(fragment: string): string[] {
  if (fragment === '' || fragment === '#') return [];
  const body = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (!body.startsWith('/')) throw new Error(`not a JSON pointer: ${fragment}`);
  return body
    .slice(1)
    .split('/')
    .map((s) => unescapeSegment(decodeURIComponent(s)));
}

export function appendPointer(pointer: string, ...segments: Array<string | number>): string {
  return pointer + toPointer(segments);
}

/** Reads the value at a pointer, or undefined. Own properties only (no prototype walks). */
export function getAtPointer(root: unknown, segments: readonly string[]): unknown {
  let node: unknown = root;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
