import { Ajv, _, str, type KeywordDefinition } from 'ajv';
import addFormatsModule from 'ajv-formats';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { documentError } from '../errors.js';
import { isRecord } from '../load/json.js';
import { BYTES_KEYWORD } from '../model/avro.js';
import type { ApiModel, JsonSchema } from '../model/types.js';
import { listLayout } from '../view/prettier-form.js';
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
        typeImports: typeImports([...new Set([...payloadTypes, ...textTypes])]),
      }),
      prettierForm: renderer.isBuiltIn('core/validators.ts.hbs'),
    });
    return files;
  },
};

/** The `import type { ... } from './types.js';` line(s), laid out as prettier prints them; empty without types. */
function typeImports(names: string[]): string {
  if (names.length === 0) return '';
  return listLayout('', { open: 'import type {', items: names, close: "} from './types.js';", padded: true, trailingComma: true });
}

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
    // A schema used in several places (a component, or an identical inline object) is compiled
    // once, as a function of its own, instead of again inside every validator that uses it.
    inlineRefs: false,
  });
  addFormats(ajv);
  ajv.addKeyword(bytesKeyword);
  try {
    ajv.addSchema({ $id: SCHEMA_ID, definitions: shareRepeatedSubschemas(model.schemas as Record<string, JsonSchema>, typeNames) });
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
  code = compactErrorCode(code, JSON.stringify(model.schemas));
  return `${header}import { equal, formats, ucs2length } from '../runtime/formats.js';\n${code}`;
}

/**
 * Avro bytes and fixed (marked by the model): a Uint8Array, of the fixed size when there is one.
 * The check is written into the standalone code like any other keyword's.
 */
const bytesKeyword: KeywordDefinition = {
  keyword: BYTES_KEYWORD,
  schemaType: ['boolean', 'number'],
  error: { message: (cxt) => (typeof cxt.schema === 'number' ? str`must be a Uint8Array of ${cxt.schema} bytes` : str`must be a Uint8Array`) },
  code(cxt) {
    const isBytes = _`${cxt.data} instanceof Uint8Array`;
    cxt.fail(typeof cxt.schema === 'number' ? _`!(${isBytes} && ${cxt.data}.length === ${cxt.schema})` : _`!(${isBytes})`);
  },
};

/** Keywords whose value is a schema, a list of schemas, or a map of names to schemas. */
const SUBSCHEMA = new Set(['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems', 'unevaluatedItems', 'unevaluatedProperties']);
const SUBSCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
/** An inline object schema shorter than this is cheaper inline than as a call. */
const SHARED_MIN_LENGTH = 120;

/**
 * The definitions with every inline object schema that occurs more than once (the same `owner`
 * object in many payloads) moved to a definition of its own and referenced: ajv then compiles it once.
 * The data each validator accepts, and the paths in its errors, do not change.
 */
function shareRepeatedSubschemas(schemas: Record<string, JsonSchema>, roots: string[]): Record<string, JsonSchema> {
  const counts = new Map<string, number>();
  const visit = (schema: unknown, count: (text: string) => void) => forEachSubschema(schema, (sub) => {
    if (isObjectSchema(sub)) count(JSON.stringify(sub));
    visit(sub, count);
  });
  for (const name of roots) visit(schemas[name], (text) => counts.set(text, (counts.get(text) ?? 0) + 1));
  const shared = new Map<string, string>();
  const out: Record<string, JsonSchema> = { ...schemas };
  let next = 0;
  const rewrite = (schema: unknown): unknown => mapSubschemas(schema, (sub) => {
    if (!isObjectSchema(sub)) return rewrite(sub);
    const text = JSON.stringify(sub);
    if ((counts.get(text) ?? 0) < 2 || text.length < SHARED_MIN_LENGTH) return rewrite(sub);
    let name = shared.get(text);
    if (name === undefined) {
      do name = `codegenShared${next++}`;
      while (name in schemas);
      shared.set(text, name);
      out[name] = rewrite(sub) as JsonSchema;
    }
    return { $ref: `#/definitions/${name}` };
  });
  for (const name of roots) out[name] = rewrite(schemas[name]) as JsonSchema;
  return out;
}

function isObjectSchema(schema: unknown): schema is Record<string, unknown> {
  return isRecord(schema) && isRecord(schema.properties) && schema.$ref === undefined;
}


function forEachSubschema(schema: unknown, each: (sub: unknown) => void): void {
  mapSubschemas(schema, (sub) => (each(sub), sub));
}

/** A copy of the schema with each direct subschema replaced by `map(subschema)`. */
function mapSubschemas(schema: unknown, map: (sub: unknown) => unknown): unknown {
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    let mapped: unknown = value;
    if (SUBSCHEMA_LISTS.has(keyword) && Array.isArray(value)) mapped = value.map(map);
    else if (SUBSCHEMA.has(keyword) && isRecord(value)) mapped = map(value);
    else if (SUBSCHEMA_MAPS.has(keyword) && isRecord(value)) {
      const entries: Record<string, unknown> = {};
      // defineProperty: a property named `__proto__` stays a property.
      for (const [name, sub] of Object.entries(value)) Object.defineProperty(entries, name, { value: map(sub), enumerable: true, writable: true, configurable: true });
      mapped = entries;
    }
    Object.defineProperty(out, keyword, { value: mapped, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * ajv writes the same statements for every error it can report. Each of them goes into a small
 * function, and `schemaPath` (which the run time never reads) is dropped: a third of the code of a
 * large document. Only where the document's own text cannot contain what is replaced, so a
 * string literal holding it is never changed.
 */
function compactErrorCode(code: string, documentText: string): string {
  if (documentText.includes('vErrors') || documentText.includes('schemaPath')) return code;
  const compacted = code
    .replace(/if\(vErrors === null\)\{vErrors = \[(err\d+)\];\}else \{vErrors\.push\(\1\);\}errors\+\+;/g, 'vErrors = pushError(vErrors, $1);errors++;')
    .replace(/,schemaPath:"#[^"\\]*"/g, '');
  return compacted === code ? code : `${compacted}\nfunction pushError(list, error) { if (list === null) return [error]; list.push(error); return list; }\n`;
}
