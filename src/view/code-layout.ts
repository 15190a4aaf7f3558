import { PRETTIER_OPTIONS } from '../format/style.js';
import { codeStringLiteral, propertyKey } from '../model/names.js';
import { group, ifBreak, indent, indentIfBreak, join, line, printDoc, softline, type Doc } from './doc-printer.js';

/**
 * Code the view builds and lays out as prettier prints it (src/view/doc-printer.ts): object and
 * array literals, type references, declarations and method signatures, each built into the document
 * prettier's printer builds for it (prettier's src/language-js/print/object.js, array.js,
 * assignment.js, type-parameters.js, function-parameters.js). A piece of code it does not model
 * (an arrow function, a call, a union type) is placed as text that cannot break: where that text
 * leaves a line too wide, the file goes through prettier after all (src/format/prettier.ts).
 */

/** A value of a literal: plain data, or a piece of code the view wrote itself (`Code`). */
export type LiteralNode =
  | { kind: 'string'; text: string }
  | { kind: 'keyword'; text: string }
  | { kind: 'identifier'; text: string }
  | { kind: 'member'; text: string }
  | { kind: 'opaque'; text: string }
  | { kind: 'object'; entries: Array<[string, LiteralNode]> }
  | { kind: 'array'; items: LiteralNode[] };

/** An expression the view wrote itself, placed in a literal as it is. */
export class Code {
  constructor(readonly text: string) {}
}

const MEMBER_CHAIN = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** What prettier sees in a piece of code the view wrote: a string, a keyword, a member chain `a.b`, or anything else. */
function codeNode(text: string): LiteralNode {
  if (/^'([^'\\]|\\.)*'$/.test(text)) return { kind: 'string', text };
  if (/^(true|false|null|undefined|-?\d+(\.\d+)?)$/.test(text)) return { kind: 'keyword', text };
  if (MEMBER_CHAIN.test(text)) return { kind: 'member', text };
  if (IDENTIFIER.test(text)) return { kind: 'identifier', text };
  return { kind: 'opaque', text };
}

/** Plain data (and `Code`) as a literal's tree; `undefined` properties are left out. */
export function literalNode(value: unknown): LiteralNode {
  if (value instanceof Code) return codeNode(value.text);
  if (typeof value === 'string') return { kind: 'string', text: codeStringLiteral(value) };
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return { kind: 'keyword', text: String(value) };
  if (Array.isArray(value)) return { kind: 'array', items: value.map(literalNode) };
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return { kind: 'object', entries: entries.map(([key, item]) => [key, literalNode(item)]) };
  }
  throw new TypeError(`cannot write ${typeof value} as a literal`);
}

/** A property key as prettier prints it: bare when an identifier, else in prettier's quotes. */
function keyText(key: string): string {
  const bare = propertyKey(key);
  return bare.startsWith('"') ? codeStringLiteral(key) : bare.startsWith('[') ? `[${codeStringLiteral(key)}]` : bare;
}

/** The document prettier builds for a literal. */
function literalDoc(node: LiteralNode): Doc {
  switch (node.kind) {
    case 'object':
      return objectDoc(node.entries.map(([key, value]) => propertyDoc(keyText(key), value)));
    case 'array':
      return arrayDoc(node);
    default:
      return node.text;
  }
}

/** object.js: `{ a, b }` on one line, else one property per line with a trailing comma. */
function objectDoc(properties: Doc[], shouldBreak = false): Doc {
  if (properties.length === 0) return '{}';
  return group(['{', indent([line, join([',', line], properties)]), ifBreak(','), line, '}'], { shouldBreak });
}

/** An object the template writes broken open, which prettier keeps so (`objectWrap: 'preserve'`). */
function expandedObjectDoc(node: Extract<LiteralNode, { kind: 'object' }>): Doc {
  return objectDoc(node.entries.map(([key, value]) => propertyDoc(keyText(key), value)), true);
}

/** array.js: one line, else one item per line; more than one item, all objects (or all arrays) of more than one entry: always broken. */
function arrayDoc(node: Extract<LiteralNode, { kind: 'array' }>): Doc {
  if (node.items.length === 0) return '[]';
  const numbers = node.items.flatMap((item) => (item.kind === 'keyword' && /^-?\d/.test(item.text) ? [item.text] : []));
  // Numbers are printed by prettier's `fill`, not modelled: one unbreakable line.
  if (numbers.length === node.items.length) return `[${numbers.join(', ')}]`;
  const size = (item: LiteralNode) => (item.kind === 'object' ? item.entries.length : item.kind === 'array' ? item.items.length : 0);
  const shouldBreak = node.items.length > 1 && node.items.every((item) => (item.kind === 'object' || item.kind === 'array') && item.kind === node.items[0]!.kind && size(item) > 1);
  return group(['[', indent([softline, join([',', line], node.items.map(literalDoc))]), ifBreak(','), softline, ']'], { shouldBreak });
}

/**
 * assignment.js's layouts for `key: value`: a key shorter than the indent plus 3 never breaks after
 * the colon; a string or a member chain moves to the next line when too long ("break-after-operator");
 * `true`, numbers never move; anything else moves only when even its first line does not fit ("fluid").
 */
function propertyDoc(key: string, value: LiteralNode): Doc {
  const valueDoc = literalDoc(value);
  const shortKey = key.length < 2 + 3;
  if (value.kind === 'opaque' || shortKey || (value.kind === 'keyword' && value.text !== 'null' && value.text !== 'undefined')) {
    return group([key, ':', ' ', valueDoc]);
  }
  if (value.kind === 'string' || value.kind === 'member') return group([key, ':', group(indent([line, valueDoc]))]);
  return fluidAssignment(key, ':', valueDoc);
}

function fluidAssignment(left: Doc, operator: string, right: Doc): Doc {
  const id = Symbol('assignment');
  return group([group(left), operator, group(indent(line), { id }), indentIfBreak(right, id)]);
}

/** A type, as far as the layouts here need to know it. */
interface TypeNode {
  doc: Doc;
  /** A name or keyword without type arguments (prettier's `isSimpleType`), or an object type: hugged when a lone type argument. */
  hug: boolean;
  /** A reference with type arguments. */
  generic: boolean;
}

/**
 * A type written as text, as prettier lays it out: `Name<A, B>` breaks its arguments one per line
 * when too long (a lone simple argument is never broken); a union, an intersection or an object type
 * is kept as written, unbreakable.
 */
function typeNode(text: string): TypeNode {
  const intersected = splitTopLevel(text, '&');
  const intersection = intersectionDoc(intersected);
  if (intersection) return { doc: intersection, hug: false, generic: false };
  const reference = /^([A-Za-z_$][\w$.]*)<(.*)>$/s.exec(text);
  const args = reference ? splitTopLevel(reference[2]!, ',') : undefined;
  const union = unionMembers(text);
  // A hugged union is printed `A<...> | null` on one line, its members' own type arguments breaking.
  if (huggedUnion(union)) return { doc: join(' | ', union.map((member) => typeNode(member).doc)), hug: true, generic: false };
  if (!reference || !args || union.length > 1 || intersected!.length > 1) {
    return { doc: text, hug: /^[A-Za-z_$][\w$.]*$/.test(text) || (text.startsWith('{') && union.length === 1), generic: false };
  }
  return { doc: typeArgumentsDoc(reference[1]!, args.map((arg) => typeNode(arg.trim()))), hug: false, generic: true };
}

function unionMembers(text: string): string[] {
  return splitTopLevel(text, '|')?.map((member) => member.trim()) ?? [text];
}

/** union-type.js's `shouldHugUnionType`: one object type or reference, the other members `void` or `null`. */
function huggedUnion(members: string[]): boolean {
  const others = members.filter((member) => member !== 'void' && member !== 'null');
  return members.length > 1 && others.length === 1 && (/^[A-Za-z_$][\w$.]*(<.*>)?$/s.test(others[0]!) || others[0]!.startsWith('{'));
}

/** `Name<...>`: type-parameters.js (no trailing comma in type arguments). */
function typeArgumentsDoc(name: string, args: TypeNode[]): Doc {
  if (args.length === 1 && args[0]!.hug) return [name, '<', args[0]!.doc, '>'];
  return [name, group(['<', indent([softline, join([',', line], args.map((arg) => arg.doc))]), softline, '>'])];
}

/** `text` split at `separator` outside brackets and quotes; undefined when the brackets do not balance. */
function splitTopLevel(text: string, separator: string): string[] | undefined {
  // A name or a keyword, the most common type argument: nothing to scan.
  if (PLAIN.test(text)) return [text];
  // Char codes in a switch, not `'<({['.includes(char)`: this runs over every type of every client method.
  const separatorCode = separator.charCodeAt(0);
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let quote = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (quote !== 0) {
      if (code === 92 /* \\ */) i++;
      else if (code === quote) quote = 0;
      continue;
    }
    switch (code) {
      case 39 /* ' */:
      case 34 /* " */:
        quote = code;
        continue;
      case 60 /* < */:
      case 40 /* ( */:
      case 123 /* { */:
      case 91 /* [ */:
        depth++;
        continue;
      case 62 /* > */:
        if (text.charCodeAt(i - 1) !== 61 /* = */ && --depth < 0) return undefined;
        continue;
      case 41 /* ) */:
      case 125 /* } */:
      case 93 /* ] */:
        if (--depth < 0) return undefined;
        continue;
    }
    if (code === separatorCode && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0 || quote !== 0) return undefined;
  parts.push(text.slice(start));
  return parts;
}

/** Text without brackets, quotes or separators. */
const PLAIN = /^[\w$. ]*$/;

/**
 * `head name: Type = literal;` (e.g. `const fooRoute: SendRoute<A, B, C> = { ... };`): assignment.js
 * breaks the type annotation's arguments first when one of several is generic itself ("break-lhs"),
 * else moves the literal to the next line before breaking them ("fluid"). `expanded`: the object
 * stays broken open even when it would fit, as prettier keeps an object written so.
 */
export function declaration(head: string, type: string, value: LiteralNode, expanded = false): string {
  const annotation = typeNode(type);
  const left: Doc = [head, ': ', annotation.doc];
  const right = expanded && value.kind === 'object' ? expandedObjectDoc(value) : literalDoc(value);
  const doc = breaksTypeArgumentsFirst(type) ? group([left, ' =', ' ', group(right)]) : fluidAssignment(left, ' =', right);
  return printDoc([doc, ';']);
}

/** Whether prettier breaks a declaration's type arguments before moving its value to the next line ("break-lhs"). */
export function breaksTypeArgumentsFirst(type: string): boolean {
  const args = typeArgumentsOf(type);
  return typeNode(type).generic && args.length > 1 && args.some((arg) => typeNode(arg).generic);
}

function typeArgumentsOf(type: string): string[] {
  const reference = /^[A-Za-z_$][\w$.]*<(.*)>$/s.exec(type);
  return (reference ? splitTopLevel(reference[1]!, ',') ?? [] : []).map((arg) => arg.trim());
}

/** `head: Type;` (an interface member): its type's arguments break when too long. */
export function typedMember(indentation: string, head: string, type: string): string {
  return printDoc([head, ': ', typeNode(type).doc, ';'], indentation);
}

export interface Parameter {
  name: string;
  type: string;
  /** A default value written as code (`{}`). */
  defaultValue?: string;
}

/**
 * A method's signature up to its body's `{`: function-parameters.js prints the parameters on one
 * line with the return type, else one per line with a trailing comma (two or more parameters are not
 * hugged; a lone one is not modelled and is placed as one line).
 */
export function methodSignature(indentation: string, name: string, parameters: Parameter[], returnType: string): string {
  const defaultOf = (parameter: Parameter) => (parameter.defaultValue === undefined ? '' : ` = ${parameter.defaultValue}`);
  if (parameters.length < 2) {
    // Not modelled (prettier may hug a lone parameter): one line, too wide when it does not fit.
    return `${indentation}${name}(${parameters.map((parameter) => `${parameter.name}: ${parameter.type}${defaultOf(parameter)}`).join(', ')}): ${returnType} {`;
  }
  const printed = parameters.map((parameter): Doc => [parameter.name, ': ', typeNode(parameter.type).doc, defaultOf(parameter)]);
  const list: Doc = ['(', indent([softline, join([',', line], printed)]), ifBreak(','), softline, ')'];
  return printDoc([name, group([list, ': ', typeNode(returnType).doc]), ' {'], indentation);
}

/** Comment text (`commentText`) for a block comment at `indentation`: prettier aligns each ` * ` under the opening `/**`. */
export function commentAt(indentation: string, text: string): string {
  return text.replace(/\n \*/g, `\n${indentation} *`);
}

/**
 * `callee(a, b, { ... })` followed by `tail`: call-arguments.js hugs a last object argument. On one
 * line when it fits, else the object breaks open after `callee(a, b, {`. The object's values must
 * print on one line (strings, keywords, arrays of strings), as prettier's first choice assumes.
 */
export function callWithLastObject(indentation: string, callee: string, args: string[], last: LiteralNode, tail: string): string {
  const lastDoc = () => literalDoc(last);
  const flat = printDoc([callee, '(', ...args.map((arg) => `${arg}, `), lastDoc(), ')', tail], indentation, Infinity);
  if (!flat.includes('\n') && flat.length <= PRETTIER_OPTIONS.printWidth) return flat;
  return printDoc([callee, '(', ...args.map((arg) => `${arg}, `), group(lastDoc(), { shouldBreak: true }), ')', tail], indentation);
}

/**
 * The properties of an object the template writes broken open (prettier keeps an object broken when
 * its source has a line break after `{`): one `key: value,` per line at `indentation`, each laid
 * out on its own, as prettier does once the object is broken.
 */
export function objectBody(indentation: string, entries: Array<[string, LiteralNode]>): string {
  return entries.map(([key, value]) => printDoc([propertyDoc(keyText(key), value), ','], indentation)).join('\n');
}

/** `head = Type;` (a type alias): assignment.js's "fluid" layout; the type's arguments break when too long. */
export function typeAlias(head: string, type: string): string {
  const union = unionMembers(type);
  if (union.length > 1 && !huggedUnion(union)) return unionAlias(head, union);
  return printDoc([fluidAssignment(head, ' =', typeNode(type).doc), ';']);
}

/**
 * `Base<...> & { key: Type } & ...`: a type that is not an object type intersected with object types
 * of one member each (anything else is not modelled). Prettier's intersection printing joins them
 * with ` & ` and no indent; each object type breaks open on its own when its line does not fit.
 * `intersected`: the type split at its top-level `&`s (undefined when its brackets do not balance).
 */
function intersectionDoc(intersected: string[] | undefined): Doc | undefined {
  const parts = intersected?.map((part) => part.trim());
  if (!parts || parts.length < 2 || parts[0]!.startsWith('{')) return undefined;
  const members = parts.slice(1).map((part) => /^\{ ([A-Za-z_$][\w$]*\??): (.*) \}$/s.exec(part));
  if (members.some((member) => !member || splitTopLevel(member[2]!, ';')!.length > 1)) return undefined;
  const objects = members.map((member): Doc => [' & ', group(['{', indent([line, member![1]!, ': ', typeNode(member![2]!).doc]), ifBreak(';'), line, '}'])]);
  return group([typeNode(parts[0]!).doc, ...objects]);
}

/**
 * `head = A | B | C;`: a type alias of a union of literal types. assignment.js breaks after the `=`
 * first ("break-after-operator"); union-type.js then puts the members on that next line, else one
 * per line after `| `.
 */
export function unionAlias(head: string, members: string[]): string {
  if (members.length < 2) return typeAlias(head, members.join(''));
  const union = group(members.map((member, index): Doc => (index === 0 ? [ifBreak('| '), member] : [line, '| ', member])));
  return printDoc([group([group(head), ' =', group(indent([line, union]))]), ';']);
}

/**
 * `head(a, b, c)` followed by `tail` (e.g. `return this.#transport.publish(route, payload, options);`),
 * arguments that are names or member chains: call-arguments.js puts them on one line, else one per
 * line with a trailing comma.
 */
export function callStatement(indentation: string, head: string, args: string[], tail: string): string {
  return printDoc([head, group(['(', indent([softline, join([',', line], args)]), ifBreak(','), softline, ')']), tail], indentation);
}
