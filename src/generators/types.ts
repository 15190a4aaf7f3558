import { compile } from 'json-schema-to-typescript';
import type { Generator } from './contract.js';

const ROOT_NAME = 'CodegenSchemaRoot';

/**
 * One TypeScript type per named schema (payloads, headers, parameter sets, shared components),
 * from json-schema-to-typescript run once over all of them.
 */
export const typesGenerator: Generator = {
  name: 'types',
  async generate({ model, view, renderer }) {
    const names = Object.keys(model.schemas);
    const source = names.length === 0 ? '' : await compileTypes(model.schemas);
    for (const name of names) {
      if (!new RegExp(`^export (?:type|interface) ${name}\\b`, 'm').test(source)) {
        throw new Error(`internal: json-schema-to-typescript did not keep the type name ${name}`);
      }
    }
    return [{ path: 'types.ts', content: renderer.render('core/types.ts.hbs', { ...view, body: source }) }];
  },
};

async function compileTypes(schemas: Record<string, unknown>): Promise<string> {
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
