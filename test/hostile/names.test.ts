import fc from 'fast-check';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { camelCase, commentText, escapeInvisible, pascalCase, propertyKey, schemaDescription, stringLiteral, typeName, UniqueNames } from '../../src/model/names.js';
import { COLLIDING, FRAGMENTS, INJECTIONS, ODD_NAMES, RESERVED } from './strings.js';
import { INVISIBLE, isCompilerDirective } from './scan.js';

/**
 * The escaping helpers every document string goes through (src/model/names.ts), checked on their own
 * against the TypeScript scanner: many thousands of inputs in well under a second each.
 */

const require = createRequire(import.meta.url);
const { toSafeString } = require('json-schema-to-typescript/dist/src/utils.js') as { toSafeString: (text: string) => string };

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.array(fc.constantFrom(...INJECTIONS, ...FRAGMENTS, ...RESERVED, ...COLLIDING, ...ODD_NAMES), { maxLength: 6 }).map((parts) => parts.join('')),
);

/** The tokens of a snippet of TypeScript, without trivia. */
function tokens(source: string): Array<{ kind: ts.SyntaxKind; text: string; value: string }> {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, source);
  const out: Array<{ kind: ts.SyntaxKind; text: string; value: string }> = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    out.push({ kind, text: scanner.getTokenText(), value: scanner.getTokenValue() });
  }
  return out;
}

/** The trivia (comments) of a snippet. */
function comments(source: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  const out: string[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.MultiLineCommentTrivia || kind === ts.SyntaxKind.SingleLineCommentTrivia) out.push(scanner.getTokenText());
  }
  return out;
}

const RUNS = { numRuns: 3000 };

describe('names.ts: the escaping helpers', () => {
  it('stringLiteral: one string token holding exactly the text, no raw invisible character', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const literal = stringLiteral(text);
        const scanned = tokens(literal);
        expect(scanned).toHaveLength(1);
        expect(scanned[0]!.kind).toBe(ts.SyntaxKind.StringLiteral);
        expect(scanned[0]!.value).toBe(text);
        expect(INVISIBLE.test(literal)).toBe(false);
        // The JavaScript engine reads the same value.
        expect(new Function(`return ${literal};`)()).toBe(text);
      }),
      RUNS,
    );
  });

  it('commentText: inside /** … */ it stays one comment, shows invisible characters and carries no compiler directive', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom('/** X */', '/**\n * X\n */', '/* X */', '/** before X after */'), (text, shape) => {
        // A function replacer: a replacement string would interpret `$&` in the text (as the first run of this test did).
        const source = shape.replace('X', () => commentText(text)) + '\nconst after = 1;';
        const trivia = comments(source);
        expect(trivia).toHaveLength(1);
        expect(isCompilerDirective(trivia[0]!)).toBe(false);
        expect(INVISIBLE.test(trivia[0]!.replace(/\n/g, ''))).toBe(false);
        expect(tokens(source).map((t) => t.text)).toEqual(['const', 'after', '=', '1', ';']);
      }),
      RUNS,
    );
  });

  it('schemaDescription: json-schema-to-typescript comments stay closed and directive-free', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const description = schemaDescription(text);
        expect(description).not.toMatch(/\*\/|\/\*|@ts-/);
        expect(INVISIBLE.test(description)).toBe(false);
      }),
      RUNS,
    );
  });

  it('pascalCase / camelCase / typeName: always ASCII identifiers, type names kept by json-schema-to-typescript', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        for (const name of [pascalCase(text), camelCase(text), typeName(pascalCase(text))]) {
          expect(name).toMatch(/^[A-Za-z_$][A-Za-z0-9_$]*$/);
          expect(name.length).toBeLessThanOrEqual(80);
        }
        const type = typeName(pascalCase(text));
        expect(toSafeString(type)).toBe(type);
        // With the suffixes the model adds.
        for (const suffix of ['Payload', 'Headers', 'Parameters', '_', '2', '_2']) expect(toSafeString(typeName(type + suffix))).toBe(typeName(type + suffix));
      }),
      RUNS,
    );
  });

  it('UniqueNames: never hands out the same name twice (case-insensitively), nor a reserved word', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyText, fc.constantFrom(...RESERVED, ...COLLIDING)), { maxLength: 60 }), (texts) => {
        const names = new UniqueNames();
        const claimed = texts.map((text) => names.claim(camelCase(text)));
        expect(new Set(claimed.map((n) => n.toLowerCase())).size).toBe(claimed.length);
        for (const name of claimed) expect(['constructor', '__proto__', 'default', 'class', 'Promise', 'close', 'then']).not.toContain(name);
      }),
      RUNS,
    );
  });

  it('propertyKey: a bare identifier or one string token, naming the same property', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const key = propertyKey(text);
        const object = new Function(`return { ${key}: 1 };`)() as Record<string, number>;
        expect(Object.keys(object)).toEqual([text]);
        expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
      }),
      RUNS,
    );
  });

  it('escapeInvisible: keeps the meaning of literals, comments and identifiers', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const source = `const value = ${JSON.stringify(text)}; /* ${text.replace(/\*\//g, '* /')} */ const tail = \`${text.replace(/[`\\$]/g, '')}\`;`;
        const escaped = escapeInvisible(source);
        expect(INVISIBLE.test(escaped)).toBe(false);
        const run = (code: string) => new Function(`${code}; return [value, tail];`)() as [string, string];
        expect(run(escaped)).toEqual(run(source));
      }),
      RUNS,
    );
    expect(escapeInvisible('const a\u200d = 1;')).toBe('const a\\u200d = 1;');
    expect(new Function('const a\\u200d = 2; return a\u200d;')()).toBe(2);
  });
});
