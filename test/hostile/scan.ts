import ts from 'typescript';

/**
 * The output scan: where in a generated TypeScript file may text from the document appear?
 * The file is parsed with the TypeScript parser; its string-literal tokens and its comments are the
 * only places document text may occupy. Everything else (identifiers, keywords, punctuation, template
 * literals, regular-expression literals) must come from the generator.
 */

export interface Region {
  start: number;
  end: number;
}

export interface ScannedFile {
  /** String-literal tokens (`'…'`, `"…"`, and template literals without substitutions). */
  strings: Region[];
  /**
   * Property names written as identifiers (`orderinfer注文user?: number`): prettier unquotes any key that
   * is a valid identifier, so a document's property name may stand bare. It names a property, never a
   * value or a binding.
   */
  keys: Region[];
  /** Comments (line and block). */
  comments: Array<Region & { text: string }>;
  /** Syntax errors found by the parser. */
  syntaxErrors: string[];
}

const FIRST_JSDOC = ts.SyntaxKind.FirstJSDocNode;
const LAST_JSDOC = ts.SyntaxKind.LastJSDocNode;

export function scanTypeScript(fileName: string, text: string): ScannedFile {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const strings: Region[] = [];
  const keys: Region[] = [];
  const comments = new Map<number, Region & { text: string }>();
  const addComment = (pos: number, end: number) => {
    if (!comments.has(pos)) comments.set(pos, { start: pos, end, text: text.slice(pos, end) });
  };
  const visit = (node: ts.Node, parent: ts.Node | undefined) => {
    if (node.kind >= FIRST_JSDOC && node.kind <= LAST_JSDOC) return;
    const children = node.getChildren(source);
    if (children.length === 0) {
      if (node.kind === ts.SyntaxKind.Identifier && parent && isPropertyName(parent, node)) keys.push({ start: node.getStart(source), end: node.end });
      // A token: its leading trivia holds the comments before it.
      ts.forEachLeadingCommentRange(text, node.pos, addComment);
      ts.forEachTrailingCommentRange(text, node.end, addComment);
      if (node.kind === ts.SyntaxKind.StringLiteral || node.kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral) {
        strings.push({ start: node.getStart(source), end: node.end });
      }
      return;
    }
    for (const child of children) visit(child, node);
  };
  visit(source, undefined);
  ts.forEachLeadingCommentRange(text, source.endOfFileToken.pos, addComment);
  const diagnostics = (source as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  return {
    strings,
    keys,
    comments: [...comments.values()].sort((a, b) => a.start - b.start),
    syntaxErrors: diagnostics.map((d) => `${fileName}:${d.start}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
  };
}

/** A property name in a type literal, an interface, a class or an object literal. */
function isPropertyName(parent: ts.Node, name: ts.Node): boolean {
  return (
    (ts.isPropertySignature(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodSignature(parent) || ts.isMethodDeclaration(parent)) &&
    parent.name === name
  );
}

/**
 * Sorted, non-overlapping regions where document text may appear: string literals and comments, and
 * (with `keys`) property names written as identifiers. An injection must not hide as a key: text from
 * the document that became a member name (`interface X { PWNED(); }`) has escaped its literal.
 */
export function safeRegions(scanned: ScannedFile, keys = true): Region[] {
  return [...scanned.strings, ...(keys ? scanned.keys : []), ...scanned.comments].sort((a, b) => a.start - b.start);
}

/** Whether [start, end) lies inside one region (binary search over sorted regions). */
export function inside(regions: Region[], start: number, end: number): boolean {
  let low = 0;
  let high = regions.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const region = regions[middle]!;
    if (region.end <= start) low = middle + 1;
    else if (region.start > start) high = middle - 1;
    else return end <= region.end;
  }
  return false;
}

/** Every index where `needle` occurs in `text`. */
export function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  if (needle === '') return found;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/**
 * Whether a comment is a directive the TypeScript compiler obeys: `@ts-ignore` / `@ts-expect-error`
 * at the start of a line comment or of the LAST line of a block comment (as the TypeScript scanner
 * reads them), `@ts-nocheck` / `@ts-check` in a line comment, or a triple-slash directive.
 */
export function isCompilerDirective(comment: string): boolean {
  // The patterns of the TypeScript scanner (commentDirectiveRegExSingleLine / MultiLine): no word
  // boundary after the name, so `@ts-expect-errorX` counts too.
  if (comment.startsWith('//')) return /^\/\/\/?\s*@ts-(?:expect-error|ignore|nocheck|check)/.test(comment) || /^\/\/\/\s*<(?:reference|amd-)/.test(comment);
  const lines = comment.split(/\r\n?|[\n\u2028\u2029]/);
  return /^(?:\/|\*)*\s*@ts-(?:expect-error|ignore)/.test(lines[lines.length - 1]!.trimStart());
}

/**
 * Characters that must never appear raw in generated code: C0/C1 controls (but tab and newline),
 * line and paragraph separators, zero-width and byte-order marks, and the bidirectional controls of
 * "Trojan Source" (CVE-2021-42574), which make code read differently from what it does.
 */
export const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

/** Lone surrogates: not valid UTF-16, written as U+FFFD by every encoder (the text changes on disk). */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const PLAIN_IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The leading `/** … *\/` header of a generated file, when it has one. */
export function splitHeader(content: string): { header: string; body: string } {
  if (!content.startsWith('/**')) return { header: '', body: content };
  const end = content.indexOf('*/\n');
  if (end === -1) return { header: '', body: content };
  return { header: content.slice(0, end + 3), body: content.slice(end + 3) };
}
