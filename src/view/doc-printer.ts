import { PRETTIER_OPTIONS } from '../format/style.js';

/**
 * The subset of prettier's document IR (src/document in prettier's source) that the view needs to
 * lay out code the way prettier prints it, and prettier's algorithm to print it: a group prints on
 * one line when it and the rest of its line fit in the print width, else its lines break. Written
 * from prettier's `printDocToString`, `fits` and `propagateBreaks`, so that a document built the
 * way prettier builds it for a piece of code prints to the same text (test/foundation/doc-printer.test.ts
 * compares both on random code).
 */
export type Doc = string | Doc[] | Group | Indent | Line | IfBreak | IndentIfBreak;

interface Group {
  kind: 'group';
  contents: Doc;
  /** Set when built broken, or when it holds a hard line or a broken group (prettier's `propagateBreaks`). */
  break: boolean;
  id?: symbol;
}
interface Indent {
  kind: 'indent';
  contents: Doc;
}
interface Line {
  kind: 'line';
  soft: boolean;
  hard: boolean;
}
interface IfBreak {
  kind: 'if-break';
  breakContents: Doc;
  flatContents: Doc;
}
interface IndentIfBreak {
  kind: 'indent-if-break';
  contents: Doc;
  groupId: symbol;
}

export const line: Doc = { kind: 'line', soft: false, hard: false };
export const softline: Doc = { kind: 'line', soft: true, hard: false };
export const hardline: Doc = { kind: 'line', soft: false, hard: true };

export function group(contents: Doc, options: { shouldBreak?: boolean; id?: symbol } = {}): Doc {
  return { kind: 'group', contents, break: options.shouldBreak ?? false, id: options.id };
}

export function indent(contents: Doc): Doc {
  return { kind: 'indent', contents };
}

export function ifBreak(breakContents: Doc, flatContents: Doc = ''): Doc {
  return { kind: 'if-break', breakContents, flatContents };
}

export function indentIfBreak(contents: Doc, groupId: symbol): Doc {
  return { kind: 'indent-if-break', contents, groupId };
}

export function join(separator: Doc, docs: Doc[]): Doc[] {
  const joined: Doc[] = [];
  for (const doc of docs) {
    if (joined.length > 0) joined.push(separator);
    joined.push(doc);
  }
  return joined;
}

type Mode = 'break' | 'flat';

/**
 * The commands still to print, as three stacks of the same height (a command's indentation, mode
 * and document) rather than one stack of objects: a client of 500 channels prints thousands of
 * documents, and an object per command was most of the printer's time and garbage.
 */
class Commands {
  readonly indentations: string[] = [];
  readonly modes: Mode[] = [];
  readonly docs: Doc[] = [];
  get size(): number {
    return this.docs.length;
  }
  push(indentation: string, mode: Mode, doc: Doc): void {
    this.indentations.push(indentation);
    this.modes.push(mode);
    this.docs.push(doc);
  }
  /** Pushes the parts of `docs` so that the first is printed first. */
  pushParts(indentation: string, mode: Mode, docs: Doc[]): void {
    for (let i = docs.length - 1; i >= 0; i--) this.push(indentation, mode, docs[i]!);
  }
}

const INDENT = '  ';

/** prettier's `propagateBreaks`: a hard line or a broken group breaks every group around it. */
function propagateBreaks(doc: Doc): boolean {
  if (typeof doc === 'string') return false;
  if (Array.isArray(doc)) {
    // Every part is visited (not `some`), as each group in it gets its own mark.
    let broken = false;
    for (const part of doc) broken = propagateBreaks(part) || broken;
    return broken;
  }
  switch (doc.kind) {
    case 'line':
      return doc.hard;
    case 'group': {
      const inner = propagateBreaks(doc.contents);
      doc.break ||= inner;
      return doc.break;
    }
    case 'if-break': {
      const breakContents = propagateBreaks(doc.breakContents);
      return propagateBreaks(doc.flatContents) || breakContents;
    }
    default:
      return propagateBreaks(doc.contents);
  }
}

/** prettier's `fits`: whether `next` in `mode` and the rest of its line (the commands still to print) fit in `width`. */
function fits(next: Doc, rest: Commands, width: number): boolean {
  let restIndex = rest.size;
  const modes: Mode[] = ['flat'];
  const docs: Doc[] = [next];
  let remaining = width;
  while (remaining >= 0) {
    if (docs.length === 0) {
      if (restIndex === 0) return true;
      restIndex--;
      modes.push(rest.modes[restIndex]!);
      docs.push(rest.docs[restIndex]!);
      continue;
    }
    const mode = modes.pop()!;
    const doc = docs.pop()!;
    if (typeof doc === 'string') {
      remaining -= doc.length;
    } else if (Array.isArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) {
        modes.push(mode);
        docs.push(doc[i]!);
      }
    } else if (doc.kind === 'line') {
      if (mode === 'break' || doc.hard) return true;
      if (!doc.soft) remaining -= 1;
    } else {
      modes.push(doc.kind === 'group' && doc.break ? 'break' : mode);
      docs.push(doc.kind === 'if-break' ? (mode === 'break' ? doc.breakContents : doc.flatContents) : doc.contents);
    }
  }
  return false;
}

/**
 * prettier's `printDocToString` for this subset, with the generated code's print width, starting at
 * `indentation` (the code printed inside a block of the template).
 */
export function printDoc(doc: Doc, indentation = '', width: number = PRETTIER_OPTIONS.printWidth): string {
  propagateBreaks(doc);
  const groupModes = new Map<symbol, Mode>();
  const commands = new Commands();
  commands.push(indentation, 'break', doc);
  const out: string[] = [indentation];
  let position = indentation.length;
  while (commands.size > 0) {
    const indentation = commands.indentations.pop()!;
    const mode = commands.modes.pop()!;
    const current = commands.docs.pop()!;
    if (typeof current === 'string') {
      out.push(current);
      position += current.length;
    } else if (Array.isArray(current)) {
      commands.pushParts(indentation, mode, current);
    } else if (current.kind === 'group') {
      const chosen: Mode = current.break || (mode !== 'flat' && !fits(current.contents, commands, width - position)) ? 'break' : 'flat';
      commands.push(indentation, chosen, current.contents);
      if (current.id) groupModes.set(current.id, chosen);
    } else if (current.kind === 'indent') {
      commands.push(indentation + INDENT, mode, current.contents);
    } else if (current.kind === 'indent-if-break') {
      const broken = groupModes.get(current.groupId) === 'break';
      commands.push(broken ? indentation + INDENT : indentation, mode, current.contents);
    } else if (current.kind === 'if-break') {
      commands.push(indentation, mode, mode === 'break' ? current.breakContents : current.flatContents);
    } else if (mode === 'flat' && !current.hard) {
      if (!current.soft) {
        out.push(' ');
        position += 1;
      }
    } else {
      trimTrailingSpaces(out);
      out.push('\n' + indentation);
      position = indentation.length;
    }
  }
  return out.join('');
}

function trimTrailingSpaces(out: string[]): void {
  while (out.length > 0) {
    const last = out[out.length - 1]!;
    // Most lines end in a character other than a space: no regular expression to run.
    const end = last.charCodeAt(last.length - 1);
    if (end !== 32 && end !== 9 && last !== '') return;
    const trimmed = last.replace(/[ \t]+$/, '');
    if (trimmed !== '') {
      out[out.length - 1] = trimmed;
      return;
    }
    out.pop();
  }
}
