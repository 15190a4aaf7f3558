import { PRETTIER_OPTIONS } from '../format/style.js';

/**
 * json-schema-to-typescript's unformatted output (`format: false`) re-printed the way prettier
 * prints it, so types.ts can skip prettier (src/format/prettier.ts). The input is a small grammar
 * (generator.js of json-schema-to-typescript): `export interface|type` declarations, `/** *\/`
 * comments, one member per line, unions and intersections in parentheses, `X[]`, tuples, JSON
 * literals, object types with a line break after `{`. Anything outside it, and any layout not
 * modelled here, makes `layoutTypes` return undefined: the file then goes through prettier as
 * before. A line left wider than the print width does the same in the format stage, so an
 * unmodelled case costs time, never output (test/foundation/prettier-form.test.ts,
 * test/generators/types-layout.test.ts).
 */
export function layoutTypes(source: string): string | undefined {
  // Only printable ASCII: prettier measures other characters differently, and normalises line ends.
  if (/[^\x20-\x7e\n]/.test(source)) return undefined;
  try {
    return new Printer().file(new Parser(tokenize(source)).file());
  } catch (error) {
    if (error instanceof Unmodelled) return undefined;
    throw error;
  }
}

class Unmodelled extends Error {}

function unmodelled(what: string): never {
  throw new Unmodelled(what);
}

// ---------------------------------------------------------------------------------------------
// Tokens and syntax tree

interface Token {
  kind: 'comment' | 'newline' | 'name' | 'string' | 'number' | 'punct';
  text: string;
}

const TOKEN = /(\/\*\*[\s\S]*?\*\/)|(\n)|( +)|("(?:[^"\\\n]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)|(\.\.\.|[[\](){}|&,:?=])/y;
const KINDS = ['comment', 'newline', 'space', 'string', 'number', 'name', 'punct'] as const;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const match = TOKEN.exec(source) ?? unmodelled(`character at ${TOKEN.lastIndex}`);
    const group = match.findIndex((text, index) => index > 0 && text !== undefined);
    const kind = KINDS[group - 1]!;
    if (kind !== 'space') tokens.push({ kind, text: match[0] });
  }
  return tokens;
}

type TypeNode =
  | { kind: 'atom'; text: string; reference: boolean }
  | { kind: 'array'; element: TypeNode }
  | { kind: 'union' | 'intersection'; members: TypeNode[] }
  | { kind: 'tuple'; elements: TypeNode[]; rest?: TypeNode }
  | { kind: 'object'; members: Member[] };

interface Member {
  comment?: string;
  key: string;
  optional: boolean;
  type: TypeNode;
}

interface Declaration {
  comment?: string;
  head: string;
  kind: 'interface' | 'type';
  type: TypeNode;
}

const KEYWORDS = new Set(['any', 'unknown', 'never', 'null', 'undefined', 'void', 'string', 'number', 'boolean', 'bigint', 'symbol', 'object', 'true', 'false', 'this']);
const NAME = /^[A-Za-z_$][\w$]*$/;
// Numbers prettier prints as json-schema-to-typescript writes them (no exponent, no trailing zero).
const PLAIN_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

class Parser {
  private at = 0;

  constructor(private readonly tokens: Token[]) {}

  file(): Declaration[] {
    const declarations: Declaration[] = [];
    while (this.peek()) {
      this.skipNewlines();
      if (!this.peek()) break;
      declarations.push(this.declaration());
    }
    return declarations;
  }

  private declaration(): Declaration {
    const comment = this.comment();
    this.expect('export');
    const keyword = this.next().text;
    const name = this.name();
    if (keyword === 'interface') {
      let head = `export interface ${name}`;
      if (this.accept('extends')) {
        const supers = [this.name()];
        while (this.accept(',')) supers.push(this.name());
        head += ` extends ${supers.join(', ')}`;
      }
      this.expect('{');
      return { comment, head, kind: 'interface', type: this.objectBody() };
    }
    if (keyword !== 'type') unmodelled(`declaration ${keyword}`);
    this.expect('=');
    return { comment, head: `export type ${name} =`, kind: 'type', type: this.union() };
  }

  private comment(): string | undefined {
    if (this.peek()?.kind !== 'comment') return undefined;
    const text = this.next().text;
    this.expectNewline();
    return text;
  }

  /** After `{`: a line break, members one per line, `}` on its own line. */
  private objectBody(): TypeNode {
    this.expectNewline();
    const members: Member[] = [];
    for (;;) {
      if (this.accept('}')) return { kind: 'object', members };
      if (this.peek()?.kind === 'newline' && members.length === 0) {
        this.next();
        continue;
      }
      members.push(this.member());
      if (!this.accept('}')) this.expectNewline();
      else return { kind: 'object', members };
    }
  }

  private member(): Member {
    const comment = this.comment();
    const key = this.key();
    const optional = this.accept('?');
    this.expect(':');
    return { comment, key, optional, type: this.union() };
  }

  private key(): string {
    const token = this.next();
    if (token.kind === 'name') return token.text;
    if (token.kind === 'string') return prettierString(token.text);
    if (token.text !== '[') unmodelled(`key ${token.text}`);
    if (this.peek()?.kind === 'string') {
      const computed = prettierString(this.next().text);
      this.expect(']');
      return `[${computed}]`;
    }
    const name = this.name();
    this.expect(':');
    this.expect('string');
    this.expect(']');
    return `[${name}: string]`;
  }

  private union(): TypeNode {
    const members = [this.intersection()];
    while (this.accept('|')) members.push(this.intersection());
    return members.length === 1 ? members[0]! : { kind: 'union', members };
  }

  private intersection(): TypeNode {
    const members = [this.postfix()];
    while (this.accept('&')) members.push(this.postfix());
    return members.length === 1 ? members[0]! : { kind: 'intersection', members };
  }

  private postfix(): TypeNode {
    let type = this.primary();
    while (this.peek()?.text === '[' && this.tokens[this.at + 1]?.text === ']') {
      // `-1[]`: Babel refuses it in some places, where prettier falls back to another parser.
      if (type.kind === 'atom' && type.text.startsWith('-')) unmodelled('array of a negative number');
      this.at += 2;
      type = { kind: 'array', element: type };
    }
    return type;
  }

  private primary(): TypeNode {
    const token = this.next();
    if (token.kind === 'name') return { kind: 'atom', text: token.text, reference: !KEYWORDS.has(token.text) };
    if (token.kind === 'string') return { kind: 'atom', text: prettierString(token.text), reference: false };
    if (token.kind === 'number') return PLAIN_NUMBER.test(token.text) ? { kind: 'atom', text: token.text, reference: false } : unmodelled(token.text);
    if (token.text === '(') {
      const inner = this.union();
      this.expect(')');
      return inner;
    }
    if (token.text === '{') return this.objectBody();
    if (token.text === '[') return this.tuple();
    return unmodelled(`type ${token.text}`);
  }

  private tuple(): TypeNode {
    const elements: TypeNode[] = [];
    let rest: TypeNode | undefined;
    if (this.accept(']')) return { kind: 'tuple', elements };
    do {
      if (rest) unmodelled('element after a rest element');
      if (this.accept('...')) rest = this.postfix();
      else elements.push(this.union());
    } while (this.accept(','));
    this.expect(']');
    return { kind: 'tuple', elements, rest };
  }

  private name(): string {
    const token = this.next();
    return token.kind === 'name' ? token.text : unmodelled(`name ${token.text}`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private next(): Token {
    return this.tokens[this.at++] ?? unmodelled('end of input');
  }

  private accept(text: string): boolean {
    const token = this.peek();
    if (!token || token.text !== text || token.kind === 'string' || token.kind === 'comment') return false;
    this.at++;
    return true;
  }

  private expect(text: string): void {
    if (!this.accept(text)) unmodelled(`expected ${text}`);
  }

  private expectNewline(): void {
    if (this.next().kind !== 'newline') unmodelled('expected a line break');
  }

  private skipNewlines(): void {
    while (this.peek()?.kind === 'newline') this.next();
  }
}

/**
 * A JSON string literal as prettier prints it with `singleQuote`: the quote that needs fewer
 * escapes (single on a tie), escapes of the other quote dropped, other escapes kept as written.
 */
function prettierString(json: string): string {
  const content = json.slice(1, -1);
  const doubles = (content.match(/"/g) ?? []).length;
  const singles = (content.match(/'/g) ?? []).length;
  const quote = singles > doubles ? '"' : "'";
  const body = content.replace(/\\(.)|(["'])/g, (match, escaped: string | undefined, bare: string | undefined) => {
    if (escaped === (quote === '"' ? "'" : '"')) return escaped;
    if (bare === quote) return '\\' + bare;
    if (bare) return bare;
    return /^[^\n\r"'0-7\\bfnrt-vx\u2028\u2029]$/.test(escaped!) ? escaped! : match;
  });
  return quote + body + quote;
}

// ---------------------------------------------------------------------------------------------
// Printing

const WIDTH = PRETTIER_OPTIONS.printWidth;
const INDENT = '  ';

function fits(line: string): boolean {
  return line.length <= WIDTH;
}

/** The type on one line, or undefined when it holds an object type (prettier always breaks those: jsts writes a line break after `{`). */
function flat(type: TypeNode, parent?: TypeNode['kind']): string | undefined {
  switch (type.kind) {
    case 'atom':
      return type.text;
    case 'object':
      return type.members.length === 0 ? '{}' : undefined;
    case 'array': {
      const element = flat(type.element, 'array');
      return element === undefined ? undefined : `${element}[]`;
    }
    case 'tuple': {
      const parts = type.elements.map((element) => flat(element, 'tuple'));
      if (type.rest) parts.push(type.rest.kind === 'array' ? mapDefined(flat(type.rest, 'tuple'), (rest) => `...${rest}`) : unmodelled('rest element'));
      return parts.includes(undefined) ? undefined : `[${parts.join(', ')}]`;
    }
    case 'union':
    case 'intersection': {
      if (type.kind === 'intersection' && parent === 'intersection') unmodelled('nested intersection');
      const parts = type.members.map((member) => flat(member, type.kind));
      if (parts.includes(undefined)) return undefined;
      const text = parts.join(type.kind === 'union' ? ' | ' : ' & ');
      return parent === 'union' || parent === 'intersection' || parent === 'array' ? `(${text})` : text;
    }
  }
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

/** prettier's `A | null` hug: one object-like member (an object type or a reference) and only `null`s beside it. */
function isHugged(type: TypeNode): boolean {
  if (type.kind !== 'union') return false;
  const objectLike = type.members.filter((member) => member.kind === 'object' || (member.kind === 'atom' && member.reference));
  return objectLike.length === 1 && type.members.every((member) => member === objectLike[0] || (member.kind === 'atom' && member.text === 'null'));
}

/** A type prettier cannot break: nothing in it but names, literals, `[]` and a hugged `| null`. */
function isUnbreakable(type: TypeNode): boolean {
  if (type.kind === 'atom') return true;
  if (type.kind === 'array') return isUnbreakable(type.element);
  return isHugged(type) && type.kind === 'union' && type.members.every(isUnbreakable);
}

class Printer {
  file(declarations: Declaration[]): string {
    // No declaration: the template's blank lines would be left at the end, which prettier drops.
    if (declarations.length === 0) unmodelled('no declaration');
    return declarations.map((declaration) => this.declaration(declaration)).join('\n');
  }

  private declaration({ comment, head, kind, type }: Declaration): string {
    const lines = comment ? [this.comment(comment, '')] : [];
    if (kind === 'interface') lines.push(`${head} ${this.object(type as Extract<TypeNode, { kind: 'object' }>, '')}`);
    else lines.push(this.alias(head, type));
    return lines.join('\n');
  }

  /** prettier's printIndentableBlockComment: every line after the first trimmed and indented one space past the `/`. */
  private comment(text: string, indent: string): string {
    const lines = text.slice(2, -2).split('\n');
    if (lines.length < 2 || !`*${text.slice(2, -2)}*`.split('\n').every((line) => line.trimStart().startsWith('*'))) unmodelled('comment');
    const printed = lines.map((line, index) => (index === 0 ? line.trimEnd() : ' ' + (index < lines.length - 1 ? line.trim() : line.trimStart())));
    return `/*${printed.join(`\n${indent}`)}*/`.replace(/^/, indent);
  }

  /** `export type X = T;`: prettier's "fluid" assignment layout, in the shapes json-schema-to-typescript's types take. */
  private alias(head: string, type: TypeNode): string {
    const oneLine = mapDefined(flat(type), (text) => `${head} ${text};`);
    if (oneLine !== undefined && fits(oneLine)) return oneLine;
    if (type.kind === 'union' && !isHugged(type)) return head + this.unionOnNextLines(type, INDENT);
    const next = mapDefined(flat(type), (text) => `${INDENT}${text};`);
    if (next !== undefined && isUnbreakable(type)) return `${head}\n${next}`;
    return `${head} ${this.broken(type, '', WIDTH - head.length - 2)};`;
  }

  private object(type: Extract<TypeNode, { kind: 'object' }>, indent: string): string {
    if (type.members.length === 0) return '{}';
    const inner = indent + INDENT;
    return `{\n${type.members.map((member) => this.member(member, inner)).join('\n')}\n${indent}}`;
  }

  private member({ comment, key, optional, type }: Member, indent: string): string {
    const head = `${indent}${key}${optional ? '?' : ''}:`;
    const text = this.annotation(head, type, indent);
    return comment ? `${this.comment(comment, indent)}\n${text}` : text;
  }

  private annotation(head: string, type: TypeNode, indent: string): string {
    const oneLine = mapDefined(flat(type), (text) => `${head} ${text};`);
    if (oneLine !== undefined && (fits(oneLine) || isUnbreakable(type))) return oneLine;
    if (type.kind === 'union' && !isHugged(type)) return head + this.unionOnNextLines(type, indent + INDENT);
    return `${head} ${this.broken(type, indent, WIDTH - head.length - 2)};`;
  }

  /** A union that does not fit after `key:` or `type X =`: flat on the next line if it fits there, else one member per line. */
  private unionOnNextLines(type: Extract<TypeNode, { kind: 'union' | 'intersection' }>, indent: string): string {
    const next = mapDefined(flat(type), (text) => `${indent}${text};`);
    if (next !== undefined && fits(next)) return `\n${next}`;
    return `${this.brokenUnion(type.members, indent)};`;
  }

  /** `\n| A\n| B`, each member aligned two columns past its `| `. */
  private brokenUnion(members: TypeNode[], indent: string): string {
    return members
      .map((member, index) => {
        const room = WIDTH - indent.length - 2 - (index === members.length - 1 ? 1 : 0);
        return `\n${indent}| ${this.layout(member, indent + INDENT, room, 'union')}`;
      })
      .join('');
  }

  /** A type on the rest of a line of `room` columns: flat when it fits, else broken as prettier breaks it. */
  private layout(type: TypeNode, indent: string, room: number, parent?: TypeNode['kind']): string {
    const text = flat(type, parent);
    if (text !== undefined && (text.length <= room || isUnbreakable(type))) return text;
    if ((type.kind === 'union' || type.kind === 'intersection') && (parent === 'union' || parent === 'intersection' || parent === 'array')) unmodelled('broken nested operator');
    return this.broken(type, indent, room);
  }

  /** A type that does not fit flat (or holds an object type), where it starts on the line. */
  private broken(type: TypeNode, indent: string, room: number): string {
    switch (type.kind) {
      case 'object':
        return this.object(type, indent);
      case 'array':
        return this.brokenArray(type.element, indent, room);
      case 'tuple':
        return this.brokenTuple(type, indent);
      case 'union':
        if (!isHugged(type)) return unmodelled('union in this position');
        return type.members.map((member) => (member.kind === 'object' ? this.object(member, indent) : member.kind === 'atom' ? member.text : unmodelled('hugged member'))).join(' | ');
      case 'intersection':
        return this.brokenIntersection(type.members, indent);
      case 'atom':
        return type.text;
    }
  }

  private brokenArray(element: TypeNode, indent: string, room: number): string {
    if (element.kind === 'object') return `${this.object(element, indent)}[]`;
    if (element.kind === 'array') return `${this.brokenArray(element.element, indent, room - 2)}[]`;
    if (element.kind === 'tuple') return `${this.brokenTuple(element, indent)}[]`;
    const inner = flat(element);
    // prettier breaks an intersection inside its parentheses instead (` &` at line ends): not modelled.
    if (element.kind === 'union' && inner !== undefined && fits(`${indent}${INDENT}${inner}`)) {
      return `(\n${indent}${INDENT}${inner}\n${indent})[]`;
    }
    return unmodelled(`array of ${element.kind}`);
  }

  private brokenTuple(type: Extract<TypeNode, { kind: 'tuple' }>, indent: string): string {
    const inner = indent + INDENT;
    const elements = type.elements.map((element) => flat(element, 'tuple'));
    if (type.rest) elements.push(mapDefined(flat(type.rest, 'tuple'), (rest) => `...${rest}`));
    const lines = elements.map((element) => `${inner}${element ?? unmodelled('tuple element')},`);
    if (!lines.every(fits)) unmodelled('tuple element too wide');
    return `[\n${lines.join('\n')}\n${indent}]`;
  }

  /** prettier's intersection: ` & ` beside an object type (which breaks); two members only. */
  private brokenIntersection(members: TypeNode[], indent: string): string {
    if (members.length !== 2 || !members.some((member) => member.kind === 'object')) unmodelled('intersection');
    return members
      .map((member) => (member.kind === 'object' ? this.object(member, indent) : (flat(member, 'intersection') ?? unmodelled('intersection member'))))
      .join(' & ');
  }
}
