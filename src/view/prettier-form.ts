import { PRETTIER_OPTIONS } from '../format/style.js';

/**
 * Code the view lays out the way prettier would print it, so that the files built from it skip
 * prettier (src/format/prettier.ts). Only the fragments whose length depends on the document are
 * laid out here; the templates around them are written in prettier's form already. Each function
 * mirrors one prettier layout: the group stays on one line when it fits in the print width, else
 * it breaks the way prettier breaks it. What is not modelled here (a line that stays too long
 * after breaking) makes the format stage run prettier on the file after all, so a wrong guess costs
 * time, never output (test/foundation/prettier-form.test.ts checks every fixture).
 */

const WIDTH = PRETTIER_OPTIONS.printWidth;
const INDENT = '  ';

function fits(line: string): boolean {
  return line.length <= WIDTH;
}

export interface ListLayout {
  /** Text before the items, up to the opening bracket: `export const x: Spec<`, `import type {`. */
  open: string;
  items: string[];
  /** The closing bracket and what follows it on the same line: `> = {`, `} from './types.js';`. */
  close: string;
  /** A space inside the brackets when on one line (`{ a, b }`; not `<A, B>`, `(a)`). */
  padded: boolean;
  /** A comma after the last item when broken (call arguments and import lists; not type arguments). */
  trailingComma: boolean;
}

/** A bracketed list on one line, or one item per line (prettier's call-argument, type-argument and import layouts). */
export function listLayout(indent: string, { open, items, close, padded, trailingComma }: ListLayout): string {
  const pad = padded && items.length > 0 ? ' ' : '';
  const flat = `${indent}${open}${pad}${items.join(', ')}${pad}${close}`;
  if (fits(flat) || items.length === 0) return flat;
  const lines = items.map((item, index) => `${indent}${INDENT}${item}${index < items.length - 1 || trailingComma ? ',' : ''}`);
  return [`${indent}${open}`, ...lines, `${indent}${close}`].join('\n');
}

/**
 * `head => a + b + c` followed by `tail`: on one line; else the body on the next line, indented;
 * else one operand per line (prettier does not indent a binary expression that is an arrow's body).
 */
export function arrowConcatenation(indent: string, head: string, operands: string[], tail: string): string {
  const body = operands.join(' + ');
  const flat = `${indent}${head} ${body}${tail}`;
  if (fits(flat)) return flat;
  const inner = indent + INDENT;
  if (fits(`${inner}${body}${tail}`) || operands.length === 1) return `${indent}${head}\n${inner}${body}${tail}`;
  return `${indent}${head}\n${operands.map((operand, index) => `${inner}${operand}${index < operands.length - 1 ? ' +' : tail}`).join('\n')}`;
}

/** How `typedObjectDeclaration` laid out a declaration's first line(s). */
export interface TypedObjectHead {
  /** Up to `= {`, or up to `=` when the object starts on the next line. */
  head: string;
  /** The object goes on the next line, one level deeper (its lines indented two more spaces). */
  objectOnNextLine: boolean;
}

/**
 * `open<A, B> = {`, a declaration with a type annotation, assigned an object: prettier keeps it on
 * one line when it fits, and breaks the type arguments when even `open<A, B> =` does not. In between
 * (only ` {` overflows) it moves the whole object to the next line, indented one more level, unless
 * it breaks the type arguments first (`breakTypeArgumentsFirst`, code-layout.ts `breaksTypeArgumentsFirst`).
 */
export function typedObjectDeclaration(open: string, typeArguments: string[], breakTypeArgumentsFirst: boolean): TypedObjectHead {
  const beforeObject = `${open}${typeArguments.join(', ')}> =`;
  if (!breakTypeArgumentsFirst && fits(beforeObject) && !fits(`${beforeObject} {`)) return { head: beforeObject, objectOnNextLine: true };
  return { head: listLayout('', { open, items: typeArguments, close: '> = {', padded: false, trailingComma: false }), objectOnNextLine: false };
}
