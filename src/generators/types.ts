import { compile } from 'json-schema-to-typescript';
import type { JsonSchema } from '../model/types.js';
import type { Generator } from './contract.js';

const ROOT_NAME = 'CodegenSchemaRoot';

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
    // Declarations in the document's order, whatever batch produced them.
    const body = names.map((name) => declarations.get(name)!).join('\n');
    return [{ path: 'types.ts', content: renderer.render('core/types.ts.hbs', { ...view, body }) }];
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
  const root = { type: 'object', additionalProperties: false, properties: {}, definitions: structuredClone(schemas) };
  const source = await compile(root as never, ROOT_NAME, {
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
  return tidy(source);
}

/** Drops the root placeholder type and json-schema-to-typescript's "referenced by" notes. */
function tidy(source: string): string {
  const lines = source.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*\*\s*This interface was referenced by `/.test(line)) {
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
