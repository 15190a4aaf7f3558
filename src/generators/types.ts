import { createRequire } from 'node:module';
import { isRecord } from '../load/json.js';
import { propertyKey } from '../model/names.js';
import type { JsonSchema } from '../model/types.js';
import type { Generator } from './contract.js';
import { layoutTypes } from './types-layout.js';

const ROOT_NAME = 'CodegenSchemaRoot';

type JsonSchemaToTypescript = typeof import('json-schema-to-typescript');
let loadedCompiler: JsonSchemaToTypescript | undefined;

/**
 * json-schema-to-typescript requires prettier when it loads, and prettier's CommonJS entry starts
 * importing its whole 680 KB ES build at once (about 50 ms of a cold run), which is never used: types
 * are compiled with `format: false` and formatted with the rest of the output. So its `prettier` is
 * answered with a stand-in while it loads, and the stand-in is taken out of the module cache right
 * after, so any other `require('prettier')` in the process gets the real one.
 */
export function jsonSchemaToTypescript(): JsonSchemaToTypescript {
  if (loadedCompiler) return loadedCompiler;
  const require = createRequire(import.meta.url);
  const entry = require.resolve('json-schema-to-typescript');
  const prettierPath = createRequire(entry).resolve('prettier');
  const stubbed = require.cache[prettierPath] === undefined;
  if (stubbed) {
    const format = () => Promise.reject(new Error('internal: json-schema-to-typescript was asked to format'));
    require.cache[prettierPath] = { id: prettierPath, filename: prettierPath, loaded: true, exports: { format } } as unknown as NodeJS.Module;
  }
  try {
    loadedCompiler = require(entry) as JsonSchemaToTypescript;
  } finally {
    if (stubbed) delete require.cache[prettierPath];
  }
  return loadedCompiler;
}

/**
 * One TypeScript type per named schema (payloads, headers, parameter sets, shared components),
 * from json-schema-to-typescript.
 */
export const typesGenerator: Generator = {
  name: 'types',
  async generate({ model, view, renderer }) {
    const names = Object.keys(model.schemas);
    const declarations = new Map<string, string>();
    for (const batch of batches(model.schemas, BATCH_SIZE)) {
      for (const [name, text] of splitDeclarations(await compileTypes(batch))) if (!declarations.has(name)) declarations.set(name, text);
    }
    for (const name of names) {
      if (!declarations.has(name)) throw new Error(`internal: json-schema-to-typescript did not keep the type name ${name}`);
    }
    // Declarations in the document's order, whatever batch produced them; then the helper types
    // json-schema-to-typescript names itself (`Order1`, for the `anyOf` part of a named object schema).
    const own = new Set(names);
    const helpers = [...declarations.keys()].filter((name) => !own.has(name)).sort();
    const source = [...names, ...helpers].map((name) => declarations.get(name)!).join('\n');
    // In prettier's form when every declaration is in a shape types-layout.ts models; else prettier formats it.
    const laidOut = layoutTypes(source);
    const content = renderer.render('core/types.ts.hbs', { ...view, body: laidOut ?? source });
    return [{ path: 'types.ts', content, prettierForm: laidOut !== undefined && renderer.isBuiltIn('core/types.ts.hbs') }];
  },
};

/**
 * json-schema-to-typescript looks each schema up among all definitions (a linear search per schema),
 * so one call over 1,000 definitions is quadratic: 2.5 s on a 500-channel document. Batches of
 * definitions (each with the definitions it references) keep every call small; a type declared by
 * several batches is the same text and is kept once.
 */
const BATCH_SIZE = 40;

function batches(schemas: Record<string, JsonSchema>, size: number): Array<Record<string, JsonSchema>> {
  const names = Object.keys(schemas);
  const out: Array<Record<string, JsonSchema>> = [];
  for (let start = 0; start < names.length; start += size) {
    const members = new Set<string>();
    const pending = names.slice(start, start + size);
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (members.has(name)) continue;
      members.add(name);
      for (const referenced of referencedNames(schemas[name])) if (!members.has(referenced)) pending.push(referenced);
    }
    out.push(Object.fromEntries(names.filter((n) => members.has(n)).map((n) => [n, schemas[n]!])));
  }
  return out;
}

const DEFINITION_REF = /"\$ref":"#\/definitions\/([^"]+)"/g;

function referencedNames(schema: JsonSchema | undefined): string[] {
  return [...JSON.stringify(schema ?? {}).matchAll(DEFINITION_REF)].map((match) => match[1]!);
}

/** Top-level `export interface|type Name` declarations with their leading doc comment. */
function splitDeclarations(source: string): Array<[string, string]> {
  const lines = source.split('\n');
  const starts: Array<{ line: number; name: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^export (?:interface|type) ([A-Za-z_$][\w$]*)/.exec(lines[i]!);
    if (!match) continue;
    let start = i;
    if (i > 0 && lines[i - 1]!.trim() === '*/') {
      while (start > 0 && !lines[start - 1]!.startsWith('/**')) start--;
      start--;
    }
    starts.push({ line: Math.max(0, start), name: match[1]! });
  }
  return starts.map((entry, index) => [entry.name, lines.slice(entry.line, starts[index + 1]?.line ?? lines.length).join('\n').trimEnd()]);
}

async function compileTypes(schemas: Record<string, JsonSchema>): Promise<string> {
  const keys = new PlaceholderKeys(schemas);
  const root = { type: 'object', additionalProperties: false, properties: {}, definitions: keys.replaceIn(schemas) };
  const source = await jsonSchemaToTypescript().compile(root as never, ROOT_NAME, {
    bannerComment: '',
    format: false,
    declareExternallyReferenced: true,
    unreachableDefinitions: true,
    // Types describe what the document names; extra properties stay allowed at run time when the schema allows them.
    additionalProperties: false,
    strictIndexSignatures: true,
    ignoreMinAndMaxItems: true,
    $refOptions: { resolve: { external: false, file: false, http: false } } as never,
  });
  return keys.restore(tidy(source));
}

/**
 * Property names json-schema-to-typescript cannot take as they are: it calls `schema.hasOwnProperty`
 * on a properties map (so a property named `hasOwnProperty` crashes it), prints some names bare (so
 * `[k: string]` becomes an index signature) and quotes others its own way. Every property name that
 * is not a plain identifier, or that names a member of Object.prototype, goes through as a
 * placeholder identifier and is put back afterwards as a properly quoted key.
 */
class PlaceholderKeys {
  private readonly originals: string[] = [];
  private readonly prefix: string;

  constructor(schemas: Record<string, JsonSchema>) {
    // A prefix the document does not use anywhere, so only placeholders are put back.
    const text = JSON.stringify(schemas);
    let prefix = 'codegenKey';
    while (text.includes(prefix)) prefix += 'X';
    this.prefix = prefix;
  }

  replaceIn(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
    return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, this.schema(schema)]));
  }

  restore(source: string): string {
    if (this.originals.length === 0) return source;
    return source.replace(new RegExp(`\\b${this.prefix}(\\d+)\\b`, 'g'), (_, index: string) => propertyKey(this.originals[Number(index)]!));
  }

  private schema(schema: unknown): any {
    if (Array.isArray(schema)) return schema.map((item) => this.schema(item));
    if (schema === null || typeof schema !== 'object') return schema;
    const out: Record<string, unknown> = {};
    for (const [keyword, value] of Object.entries(schema)) {
      if (keyword === 'properties' && isRecord(value)) {
        out[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [this.key(name), this.schema(sub)]));
      } else if (keyword === 'patternProperties' && isRecord(value)) {
        // A pattern is no name in the type (it becomes an index signature), but json-schema-to-typescript
        // copies it into a comment with only its first `*/` escaped: it goes through as a neutral name.
        out[keyword] = Object.fromEntries(Object.entries(value).map(([, sub], index) => [`${this.prefix}Pattern${index}`, this.schema(sub)]));
      } else if (keyword === 'required' && Array.isArray(value)) {
        out[keyword] = value.map((name) => (typeof name === 'string' ? this.key(name) : name));
      } else if (keyword === 'enum' || keyword === 'const' || keyword === 'default' || keyword === 'examples') {
        out[keyword] = structuredClone(value);
      } else {
        Object.defineProperty(out, keyword, { value: this.schema(value), enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }

  private key(name: string): string {
    if (PLAIN_KEY.test(name) && !(name in Object.prototype)) return name;
    let index = this.originals.indexOf(name);
    if (index === -1) index = this.originals.push(name) - 1;
    return `${this.prefix}${index}`;
  }
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;


/** Drops the root placeholder type and json-schema-to-typescript's "referenced by" notes. */
function tidy(source: string): string {
  const lines = source.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // Both lines of the note, so a description that happens to read like its first line stays whole.
    if (/^\s*\*\s*This interface was referenced by `[^`]*`'s JSON-Schema( definition)?$/.test(line) && /^\s*\*\s*via the `(definition|patternProperty)` "[^"]*"\.$/.test(lines[i + 1] ?? '')) {
      i++; // and its "via the `definition`" line
      while (kept.length > 0 && /^\s*\*\s*$/.test(kept[kept.length - 1]!)) kept.pop();
      continue;
    }
    kept.push(line);
  }
  return kept
    .join('\n')
    .replace(/\/\*\*\s*\*\/\n?/g, '')
    .replace(new RegExp(`export interface ${ROOT_NAME} \\{\\s*\\}\\n?`), '');
}
