import type { MessageModel } from './types.js';

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
    'propertyIsEnumerable toLocaleString toString valueOf close declareTopology connection then catch finally ' +
    // Types the index re-exports from the run-time modules (`export *` would clash with a document type).
    'EnvelopeInput HeaderMapping DeadLetterReason EventValidationError PublishError ReplyTimeoutError RequestFailedError ' +
    'ClientClosedError IdempotencyStore ClaimingIdempotencyStore ClaimResult MemoryStoreOptions MemoryIdempotencyStore Logger ' +
    'RetryPolicy ConsumerOptions PublishOptions'
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

/**
 * A type name as json-schema-to-typescript writes it (a fixed point of its `toSafeString`): a
 * lowercase letter after a digit or an underscore is capitalised (`_1st` → `_1St`, `V2x` → `V2X`),
 * so the name the model chose is the name `types.ts` exports.
 */
export function typeName(name: string): string {
  return name.replace(/([0-9$_])([a-z])/g, (_, before: string, letter: string) => before + letter.toUpperCase());
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

/**
 * A property key as TypeScript source: bare when it is a plain identifier, quoted otherwise. In an
 * object literal `__proto__: x` and `"__proto__": x` both SET THE PROTOTYPE instead of defining a
 * property; only the computed form `["__proto__"]` defines one (and is valid in types too).
 */
export function propertyKey(name: string): string {
  if (name === '__proto__') return `[${stringLiteral(name)}]`;
  return IDENTIFIER.test(name) ? name : stringLiteral(name);
}

/**
 * Characters that must not appear raw in generated code, although they may in its strings: controls
 * (but tab and newline), line and paragraph separators, zero-width characters and byte-order marks,
 * and the bidirectional controls of "Trojan Source" (CVE-2021-42574), which make code read
 * differently from what it does. Literals carry them as `\\uXXXX` escapes; comments show them so.
 */
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

function unicodeEscape(character: string): string {
  return '\\u' + character.charCodeAt(0).toString(16).padStart(4, '0');
}

/**
 * Writes every invisible character of TypeScript source as a `\\uXXXX` escape, keeping the meaning
 * wherever such a character can legally stand: string, template and regular-expression literals
 * (where a backslash before it is an identity escape, replaced by the `\\u` escape, or, before a
 * line or paragraph separator, a line continuation worth nothing), identifiers (`a\\u200d` is the
 * same name), and comments (which mean nothing). For text produced by other tools (types, validators).
 */
export function escapeInvisible(source: string): string {
  return source.replace(new RegExp(`(\\\\*)(${INVISIBLE.source})`, 'g'), (_, backslashes: string, character: string) => {
    if (backslashes.length % 2 === 0) return backslashes + unicodeEscape(character);
    const kept = backslashes.slice(1);
    return /[\u2028\u2029]/.test(character) ? kept : kept + unicodeEscape(character);
  });
}

/** Any text as a TypeScript/JavaScript string literal (the same value; invisible characters escaped). */
export function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(INVISIBLE, unicodeEscape);
}

/**
 * The same literal as prettier prints it in the generated code's style (`singleQuote`): single
 * quotes unless the text holds more single than double quotes, and no escaped quote that the
 * chosen quotes do not need. Code laid out in the view (src/view/prettier-form.ts) uses it.
 */
export function codeStringLiteral(text: string): string {
  const literal = stringLiteral(text);
  const singles = text.split("'").length - 1;
  const doubles = text.split('"').length - 1;
  if (singles > doubles) return literal;
  const body = literal.slice(1, -1).replace(/\\(.)|'/g, (match, escaped: string | undefined) => (escaped === '"' ? '"' : escaped === undefined ? "\\'" : match));
  return `'${body}'`;
}

/**
 * A schema's `description` as json-schema-to-typescript will put it in a block comment of types.ts:
 * it can neither close nor open a comment (`*\/`, `/\*`), hide characters, or carry a compiler
 * directive. The description is documentation only (no validation keyword), so the text may change.
 */
export function schemaDescription(text: string): string {
  return text
    .replace(/\*\//g, '*\\/')
    .replace(/\/\*/g, '/\\*')
    .replace(INVISIBLE, unicodeEscape)
    .replace(/@(?=ts-)/g, '&#64;');
}

/** Text made safe inside a block comment: it cannot close the comment or start a new line of code. */
export function commentText(text: string | undefined): string {
  if (!text) return '';
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\*\//g, '*\\/')
    .replace(/[\u2028\u2029]/g, ' ')
    // Shown, not hidden: a bidirectional control in a comment can make the code around it read wrongly.
    .replace(INVISIBLE, unicodeEscape)
    // `@ts-ignore` / `@ts-expect-error` on a comment's last line would silence (or fail) the compiler.
    .replace(/@(?=ts-)/g, '&#64;')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n * ')
    // An empty line of the text is ` *` with no trailing space, as prettier prints it.
    .replace(/\n \* (?=\n)/g, '\n *')
    .trim();
}

/** The CloudEvents `type` codegen's envelope puts on the wire: the `x-cloudevents-type` pin, else `name`, else the message's key. */
export function cloudEventsTypeOf(message: MessageModel): string {
  return message.cloudEventsType ?? message.messageName ?? message.id;
}
