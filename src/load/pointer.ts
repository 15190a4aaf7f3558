/** RFC 6901 JSON pointers. */
export function escapeSegment(segment: string | number): string {
  const text = String(segment);
  // Most keys need no escape: this is called for every value of a document walked with its pointers.
  if (!text.includes('~') && !text.includes('/')) return text;
  return text.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapeSegment(segment: string): string {
  if (!segment.includes('~')) return segment;
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
    .map((s) => unescapeSegment(s.includes('%') ? decodeURIComponent(s) : s));
}

export function appendPointer(pointer: string, ...segments: Array<string | number>): string {
  return segments.length === 1 ? pointer + '/' + escapeSegment(segments[0]!) : pointer + toPointer(segments);
}

/**
 * A place in a walk, as a chain of segments up to the root. Walks over every value keep this instead
 * of each value's pointer (a string per value, most never read) and build the pointer when one is
 * reported.
 */
export interface PathStep {
  parent: PathStep | undefined;
  segment: string | number;
}

export function pointerOfPath(step: PathStep | undefined): string {
  const segments: Array<string | number> = [];
  for (let at = step; at; at = at.parent) segments.push(at.segment);
  return toPointer(segments.reverse());
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
