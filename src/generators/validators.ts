import { Ajv, _ } from 'ajv';
import addFormatsModule from 'ajv-formats';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { documentError } from '../errors.js';
import type { ApiModel, JsonSchema } from '../model/types.js';
import type { GeneratedFile, Generator } from './contract.js';

const SCHEMA_ID = 'codegen-schemas.json';
// CommonJS packages seen through NodeNext: their default export sits on `.default`.
const addFormats = addFormatsModule.default;
const standaloneCode = standaloneModule.default;

/** Replacements for ajv's run-time imports, so generated validators need no dependency. */
const RUNTIME_IMPORTS: Array<[RegExp, string]> = [
  [/require\("ajv\/dist\/runtime\/equal"\)\.default/g, 'equal'],
  [/require\("ajv\/dist\/runtime\/ucs2length"\)\.default/g, 'ucs2length'],
];

/**
 * ajv standalone validators, compiled now so nothing compiles a schema at run time: one per payload
 * schema, and one per header schema compiled with type coercion (brokers carry header values as text).
 */
export const validatorsGenerator: Generator = {
  name: 'validators',
  generate({ model, view, renderer }) {
    const payloadTypes = [...new Set(model.messages.map((m) => m.payloadTypeName))];
    // Headers and channel parameters arrive as text on every broker: their validators coerce types.
    const textTypes = [
      ...new Set([
        ...model.messages.map((m) => m.headersTypeName),
        ...model.channels.map((c) => c.parametersTypeName),
      ].filter((t): t is string => !!t)),
    ];
    const files: GeneratedFile[] = [
      { path: 'validators/strict.compiled.ts', content: compiledModule(model, payloadTypes, false, view.headerComment), format: false },
      { path: 'validators/coercing.compiled.ts', content: compiledModule(model, textTypes, true, view.headerComment), format: false },
    ];
    files.push({
      path: 'validators.ts',
      content: renderer.render('core/validators.ts.hbs', {
        ...view,
        payloadValidators: payloadTypes.map((type) => ({ type, name: `validate${type}` })),
        coercingValidators: textTypes.map((type) => ({ type, name: `validate${type}` })),
        typeImports: [...new Set([...payloadTypes, ...textTypes])],
      }),
    });
    return files;
  },
};

function compiledModule(model: ApiModel, typeNames: string[], coerce: boolean, headerComment: string): string {
  const header = `/**\n * ${headerComment}\n */\n// @ts-nocheck -- ajv standalone output, typed by validators.ts; emitted as ajv writes it (not formatted).\n/* eslint-disable */\n`;
  if (typeNames.length === 0) return `${header}export {};\n`;
  const ajv = new Ajv({
    code: { source: true, esm: true, formats: _`formats`, optimize: 1 },
    // Every failing field at once: a producer's developer fixes them in one go. (The code is
    // about the same size as with first-error-only on our synthetic documents.)
    allErrors: true,
    strict: false,
    coerceTypes: coerce,
    logger: false,
    // Schemas come from the document: a hostile `$id` or `$schema` must not reach the code.
    addUsedSchema: false,
  });
  addFormats(ajv);
  try {
    ajv.addSchema({ $id: SCHEMA_ID, definitions: model.schemas as Record<string, JsonSchema> });
  } catch (error) {
    throw documentError('E_SCHEMA_INVALID', `a payload or header schema cannot be compiled: ${(error as Error).message}`, model.origin);
  }
  const exports: Record<string, string> = {};
  // Identical schemas (the same inline header set on many messages, say) share one compiled function.
  const canonical = new Map<string, string>();
  const aliases: string[] = [];
  for (const name of typeNames) {
    const text = JSON.stringify(model.schemas[name]);
    const first = canonical.get(text) ?? name;
    if (first === name) {
      canonical.set(text, name);
      try {
        ajv.getSchema(`${SCHEMA_ID}#/definitions/${name}`);
      } catch (error) {
        const origin = model.schemaOrigins[name];
        throw documentError('E_SCHEMA_INVALID', `schema ${name} cannot be compiled: ${(error as Error).message}`, origin);
      }
    }
    if (first === name) exports[`validate${name}`] = `${SCHEMA_ID}#/definitions/${name}`;
    else aliases.push(`export const validate${name} = validate${first};`);
  }
  let code = standaloneCode(ajv, exports) + '\n' + aliases.join('\n');
  for (const [pattern, replacement] of RUNTIME_IMPORTS) code = code.replace(pattern, replacement);
  if (/\brequire\(/.test(code)) throw new Error('internal: a compiled validator still requires an ajv module');
  // The schema ids ajv writes into `sourceURL` comments are ours; drop them anyway (comments carry no meaning).
  code = code.replace(/\/\*# sourceURL=[^\n]*?\*\/;?/g, '');
  return `${header}import { equal, formats, ucs2length } from '../runtime/formats.js';\n${code}`;
}
