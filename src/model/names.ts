/**
 * Everything that turns document text into code text lives here, so templates never escape anything.
 */

const RESERVED_WORDS = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'as implements interface let package private protected public static yield any boolean number string symbol ' +
    'unknown never object undefined bigint await async type declare module namespace require keyof readonly infer is ' +
    'asserts abstract accessor satisfies out get set of from global constructor prototype arguments eval'
  ).split(' '),
);

/**
 * Names that would shadow globals or members the generated code relies on. A type called `Promise`
 * or a method called `close` would break the code around it, so they get a suffix.
 */
const RESERVED_GENERATED_NAMES = new Set(
  (
    'Promise Record Array Object String Number Boolean Date Error Map Set Symbol JSON Buffer Uint8Array Partial ' +
    'Required Readonly Pick Omit Exclude Extract ReturnType Parameters Function RegExp Math BigInt Infinity NaN ' +
    'Headers Envelope CloudEvent CloudEventAttributes ValidationResult ValidationIssue Client ClientOptions ' +
    '__proto__ __defineGetter__ __defineSetter__ __lookupGetter__ __lookupSetter__ hasOwnProperty isPrototypeOf ' +
    'propertyIsEnumerable toLocaleString toString valueOf close declareTopology connection then catch finally'
  ).split(' '),
);

/** Splits text into ASCII word parts: `order-id`, `order_id`, `orderId`, `OrderID` all give [order, id]. */
export function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0);
}

const MAX_IDENTIFIER_LENGTH = 80;

function capitalize(part: string): string {
  return part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
}

function clip(name: string): string {
  return name.length > MAX_IDENTIFIER_LENGTH ? name.slice(0, MAX_IDENTIFIER_LENGTH) : name;
}

/** `light measured` → `LightMeasured`; always a valid identifier. */
export function pascalCase(text: string, fallback = 'Unnamed'): string {
  const parts = words(text);
  let name = parts.map(capitalize).join('');
  if (name === '') name = fallback;
  if (/^[0-9]/.test(name)) name = '_' + name;
  return clip(name);
}

/** `light measured` → `lightMeasured`; always a valid identifier. */
export function camelCase(text: string, fallback = 'unnamed'): string {
  const parts = words(text);
  let name = parts.map((part, index) => (index === 0 ? part.toLowerCase() : capitalize(part))).join('');
  if (name === '') name = fallback;
  if (/^[0-9]/.test(name)) name = '_' + name;
  return clip(name);
}

export function isReservedName(name: string): boolean {
  return RESERVED_WORDS.has(name) || RESERVED_GENERATED_NAMES.has(name);
}

/**
 * Hands out unique names in one namespace. Collisions get a deterministic numeric suffix
 * in the order names are claimed (document order), so the same document always gives the same names.
 */
export class UniqueNames {
  private readonly taken = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.taken.add(name.toLowerCase());
  }

  claim(base: string): string {
    let stem = base;
    if (isReservedName(stem)) stem = stem + '_';
    let candidate = stem;
    for (let counter = 2; this.taken.has(candidate.toLowerCase()); counter++) candidate = `${stem}${counter}`;
    // Case-insensitive: generated names also become file names on case-insensitive file systems.
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key as TypeScript source: bare when it is a plain identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) && name !== '__proto__' ? name : stringLiteral(name);
}

/** Any text as a TypeScript/JavaScript string literal. */
export function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Text made safe inside a block comment: it cannot close the comment or start a new line of code. */
export function commentText(text: string | undefined): string {
  if (!text) return '';
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\*\//g, '*\\/')
    .replace(/[\u2028\u2029]/g, ' ')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n * ')
    .trim();
}
