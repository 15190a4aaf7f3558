import fc from 'fast-check';

/**
 * The raw material of hostile documents. Every text a document can carry (names, keys, addresses,
 * descriptions, enum values) is drawn from these pools.
 */

/**
 * Marks text that tries to become code. It never appears in a plain identifier a document provides
 * (every string holding it also holds punctuation), and the generator's identifier conversion
 * (`words()` → camel/Pascal case) lowercases it, so finding `PWNED` in code outside a string literal
 * or a comment means the document escaped into the program.
 */
export const CANARY = 'PWNED';

/** Attempts to leave a string literal, a template, a comment, a regular expression or a line. */
export const INJECTIONS: readonly string[] = [
  `"); PWNED(); ("`,
  `'); PWNED(); ('`,
  '`); PWNED(); (`',
  '${PWNED()}',
  '`${PWNED()}`',
  '*/ PWNED(); /*',
  '**/PWNED()/**',
  '\n PWNED(); //',
  '\r\nPWNED();',
  '\u2028PWNED();\u2029',
  '\\"; PWNED(); //',
  "\\'; PWNED(); //",
  '\\\\`; PWNED(); //',
  '</script><script>PWNED()</script>',
  '{{PWNED}}',
  '{{{PWNED}}}',
  '{{> PWNED}}',
  "$&PWNED$'$`",
  '/ PWNED /',
  '-->PWNED<!--',
  '\u0000PWNED',
  '\ud800PWNED\udfff',
  '@ts-ignore PWNED',
  '@ts-expect-error PWNED',
  '\n@ts-expect-error',
  '// @ts-nocheck PWNED',
  '/// <reference path="PWNED" />',
  '#!PWNED',
  '\\u0022); PWNED(); (\\u0022',
  '\u202eDENWP\u202c PWNED',
  '"]; PWNED(); x["',
  '}; PWNED(); {',
  'a: PWNED,',
  'a = PWNED;',
  '<PWNED>',
];

/** Pieces that are dangerous or odd on their own or glued to others. */
export const FRAGMENTS: readonly string[] = [
  '"',
  "'",
  '`',
  '\\',
  '${',
  '}',
  '{',
  '*/',
  '/*',
  '//',
  '/',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\u000b',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u200c',
  '\u200d',
  '\ufeff',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u061c',
  '\u00a0',
  '\u3000',
  '🚀',
  '👨‍👩‍👧',
  '🏳️‍🌈',
  'e\u0301',
  'Ω',
  '注文',
  'طلب',
  'ｏｒｄｅｒ',
  'ﬁ',
  'İ',
  'ß',
  'ǅ',
  '\ud800',
  '\udc00',
  '$',
  '$$',
  '$1',
  '%s',
  '%00',
  '#',
  '~',
  '~0',
  '~1',
  '.',
  '-',
  '_',
  ' ',
  '?',
  '&',
  '<',
  '>',
  '|',
  '^',
  '*',
  '+',
  '(',
  ')',
  '[',
  ']',
  '=',
  '@',
  '!',
  ',',
  ';',
  ':',
];

/**
 * Words that are reserved in TypeScript or JavaScript, members of Object.prototype, or names the
 * generated code itself uses (extended at run time with the exports of a reference output).
 */
export const RESERVED: readonly string[] = [
  'constructor',
  '__proto__',
  'prototype',
  'default',
  'class',
  'Promise',
  'close',
  'then',
  'catch',
  'finally',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'toJSON',
  'function',
  'import',
  'export',
  'enum',
  'await',
  'async',
  'yield',
  'let',
  'static',
  'new',
  'delete',
  'typeof',
  'void',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  'eval',
  'arguments',
  'super',
  'this',
  'Object',
  'Array',
  'Error',
  'Symbol',
  'JSON',
  'Function',
  'any',
  'unknown',
  'never',
  'string',
  'number',
  'type',
  'interface',
  'namespace',
  'declare',
  'readonly',
  'keyof',
  'infer',
  'is',
  'asserts',
  'satisfies',
  'get',
  'set',
  'of',
  'from',
  'as',
  'require',
  'module',
  'exports',
  'globalThis',
  'process',
  'operations',
  'validators',
  'types',
  'runtime',
  'segment',
  'acceptAny',
  'acceptAnyHeaders',
  'firstValid',
  'eventTypeOf',
  'matchAddress',
  'check',
  'strict',
  'coercing',
  'equal',
  'formats',
  'ucs2length',
  'documentInfo',
  'client',
  'options',
  'payload',
  'headers',
  'parameters',
  'context',
  'handler',
  'message',
  'connect',
  'publish',
  'subscribe',
  'request',
  'reply',
  'on',
  'kafka',
  'nats',
  'rabbitmq',
  'amqp',
  'Kafka',
  'Producer',
  'Consumer',
  'Channel',
  'Connection',
  'Message',
  'Logger',
  'Client',
  'ClientOptions',
  'Headers',
  'Envelope',
  'CloudEvent',
  'OperationSpec',
  'ValidationResult',
  'ValidationIssue',
  'RetryPolicy',
  'IdempotencyStore',
  'Outcome',
  'Spec',
  'AddressPattern',
  'Payload',
  'Parameters',
];

/** Names that turn into the same identifier once converted. */
export const COLLIDING: readonly string[] = [
  'order-id',
  'order_id',
  'orderId',
  'OrderId',
  'ORDER_ID',
  'order.id',
  'order id',
  'order--id',
  'orderID',
  'Order-Id',
  'ｏｒｄｅｒ-id',
  'order-id2',
  'order-id-2',
  'orderId2',
  'orderIdPayload',
  'order-id-payload',
  'orderIdHeaders',
  'publishOrderId',
  'onOrderId',
  'requestOrderId',
  'validateOrderId',
];

/** Names starting with digits, empty, made of punctuation only, or very long. */
export const ODD_NAMES: readonly string[] = [
  '',
  '0',
  '1st',
  '123abc',
  '2-factor',
  '9_lives',
  '-',
  '_',
  '__',
  '$',
  '.',
  '...',
  '---',
  '🚀',
  '注文',
  'a'.repeat(300),
  `${'long'.repeat(30)}1`,
  `${'long'.repeat(30)}2`,
  `${'Long_'.repeat(25)}X`,
];

/** Plain words used to glue pieces together. */
const PLAIN: readonly string[] = ['order', 'id', 'Created', 'user', 'x', 'item', 'event', 'v2'];

const fragment = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 3, arbitrary: fc.constantFrom(...RESERVED, ...COLLIDING) },
  { weight: 3, arbitrary: fc.constantFrom(...PLAIN) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
);

/** Any text at all: an injection, a reserved word, a colliding name, or a mix of pieces. */
export function hostileText(extraNames: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INJECTIONS) },
    { weight: 3, arbitrary: fc.constantFrom(...RESERVED, ...extraNames) },
    { weight: 2, arbitrary: fc.constantFrom(...COLLIDING) },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_NAMES) },
    { weight: 5, arbitrary: fc.array(fragment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...INJECTIONS, ...FRAGMENTS), { minLength: 2, maxLength: 4 }).map((parts) => parts.join('')) },
  );
}

/** Names for keys that the AsyncAPI schema restricts to `^[\w\d.\-_]+$` (component keys). */
export function componentKey(extraNames: readonly string[] = []): fc.Arbitrary<string> {
  const ascii = (text: string) => /^[\w.-]+$/.test(text);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...[...RESERVED, ...extraNames].filter(ascii)) },
    { weight: 3, arbitrary: fc.constantFrom(...[...COLLIDING, ...ODD_NAMES].filter(ascii)) },
    { weight: 2, arbitrary: fc.stringMatching(/^[\w.-]{1,12}$/) },
  );
}

/**
 * Parameter names: anything but braces (they delimit the name in the address) and line terminators
 * (the parser finds address parameters with `/{(.+?)}/`, which does not cross a line).
 */
export function parameterName(extraNames: readonly string[] = []): fc.Arbitrary<string> {
  return hostileText(extraNames)
    .map((text) => text.replace(/[{}\n\r\u2028\u2029]/g, ''))
    .filter((text) => text !== '');
}

/**
 * Names AsyncAPI 2.x allows in a channel address template (RFC 6570 variables): `[A-Za-z0-9_]`.
 * Reserved words and colliding names still fit.
 */
export function templateVariable(extraNames: readonly string[] = []): fc.Arbitrary<string> {
  const fits = (text: string) => /^[A-Za-z0-9_]+$/.test(text);
  return fc.oneof(
    fc.constantFrom(...[...RESERVED, ...COLLIDING, ...ODD_NAMES, ...extraNames].filter(fits)),
    fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/),
  );
}

/** Literal text of a 2.x channel address: RFC 6570 literals (no space, quote, `<>`, `\`, `^`, backtick, `{|}`, `%`), no query or fragment. */
export function templateLiteral(): fc.Arbitrary<string> {
  return hostileText().map((text) => text.replace(/[\u0000-\u0020"'<>%\\^`{|}\u007f?#]/g, '').replace(/[\ud800-\udfff]/g, ''));
}
