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
  return docs.flatMap((doc, index) => (index === 0 ? [doc] : [separator, doc]));
}

type Mode = 'break' | 'flat';
interface Command {
  indentation: string;
  mode: Mode;
  doc: Doc;
}

const INDENT = '  ';

/** prettier's `propagateBreaks`: a hard line or a broken group breaks every group around it. */
function propagateBreaks(doc: Doc): boolean {
  if (typeof doc === 'string') return false;
  if (Array.isArray(doc)) return doc.map(propagateBreaks).some(Boolean);
  switch (doc.kind) {
    case 'line':
      return doc.hard;
    case 'group': {
      const inner = propagateBreaks(doc.contents);
      doc.break ||= inner;
      return doc.break;
    }
    case 'if-break':
      return [propagateBreaks(doc.breakContents), propagateBreaks(doc.flatContents)].some(Boolean);
    default:
      return propagateBreaks(doc.contents);
  }
}

/** prettier's `fits`: whether `next` and the rest of its line (the commands still to print) fit in `width`. */
function fits(next: Command, rest: Command[], width: number, groupModes: Map<symbol, Mode>): boolean {
  let restIndex = rest.length;
  const commands: Array<{ mode: Mode; doc: Doc }> = [next];
  let remaining = width;
  while (remaining >= 0) {
    if (commands.length === 0) {
      if (restIndex === 0) return true;
      commands.push(rest[--restIndex]!);
      continue;
    }
    const { mode, doc } = commands.pop()!;
    if (typeof doc === 'string') {
      remaining -= doc.length;
    } else if (Array.isArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) commands.push({ mode, doc: doc[i]! });
    } else if (doc.kind === 'group') {
      commands.push({ mode: doc.break ? 'break' : mode, doc: doc.contents });
    } else if (doc.kind === 'if-break') {
      commands.push({ mode, doc: mode === 'break' ? doc.breakContents : doc.flatContents });
    } else if (doc.kind === 'line') {
      if (mode === 'break' || doc.hard) return true;
      if (!doc.soft) remaining -= 1;
    } else {
      commands.push({ mode, doc: doc.contents });
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
  const commands: Command[] = [{ indentation, mode: 'break', doc }];
  const out: string[] = [indentation];
  let position = indentation.length;
  while (commands.length > 0) {
    const { indentation, mode, doc: current } = commands.pop()!;
    if (typeof current === 'string') {
      out.push(current);
      position += current.length;
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) commands.push({ indentation, mode, doc: current[i]! });
    } else if (current.kind === 'group') {
      const flat: Command = { indentation, mode: 'flat', doc: current.contents };
      const chosen = mode === 'flat' && !current.break ? flat : !current.break && fits(flat, commands, width - position, groupModes) ? flat : { ...flat, mode: 'break' as Mode };
      commands.push(chosen);
      if (current.id) groupModes.set(current.id, chosen.mode);
    } else if (current.kind === 'indent') {
      commands.push({ indentation: indentation + INDENT, mode, doc: current.contents });
    } else if (current.kind === 'indent-if-break') {
      const broken = groupModes.get(current.groupId) === 'break';
      commands.push({ indentation: broken ? indentation + INDENT : indentation, mode, doc: current.contents });
    } else if (current.kind === 'if-break') {
      commands.push({ indentation, mode, doc: mode === 'break' ? current.breakContents : current.flatContents });
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
    const trimmed = out[out.length - 1]!.replace(/[ \t]+$/, '');
    if (trimmed !== '') {
      out[out.length - 1] = trimmed;
      return;
    }
    out.pop();
  }
}
