// Validates values (message examples, schema defaults and examples) against schemas of the document,
// as the parser does through Spectral's `schema` function: ajv, draft-07 unless the schema's
// `$schema` names 2019-09 or 2020-12, all errors, formats checked, unknown keywords ignored.
// ajv is loaded and its instances created only when a document has something to check.
import { createRequire } from 'node:module';
import type { AjvError } from '../structure.js';

const require = createRequire(import.meta.url);

type Compiled = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
interface AjvInstance {
  compile(schema: unknown): Compiled;
  getSchema(id: string): Compiled | undefined;
  removeSchema(schema: unknown): void;
}
type AjvClass = new (options: Record<string, unknown>) => AjvInstance;

export type Outcome = { errors: AjvError[] } | { compileError: string };

const OPTIONS = { allErrors: true, meta: true, messages: true, strict: false, allowUnionTypes: true, unicodeRegExp: false, logger: false };

function dialectOf(schema: Record<string, unknown>): 'ajv/dist/2019.js' | 'ajv/dist/2020.js' | 'ajv' {
  const uri = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (uri.includes('2020-12')) return 'ajv/dist/2020.js';
  if (uri.includes('2019-09')) return 'ajv/dist/2019.js';
  return 'ajv';
}

/** One set of ajv instances per document, like the parser (which keeps one per document it lints). */
export class SchemaChecker {
  private readonly instances = new Map<string, AjvInstance>();
  private readonly compiled = new WeakMap<object, Compiled | Error>();
  private readonly byText = new Map<string, Compiled | Error>();

  /** Validates `value` against `schema`; a schema that does not compile gives its error instead. */
  check(schema: unknown, value: unknown): Outcome | undefined {
    const validator = this.compile(schema);
    if (validator instanceof Error) {
      // The parser ignores references it cannot follow (a recursive schema keeps its `$ref`).
      if ((validator as { missingRef?: string }).missingRef !== undefined) return undefined;
      return { compileError: validator.message };
    }
    return validator(value) ? undefined : { errors: validator.errors ?? [] };
  }

  private compile(schema: unknown): Compiled | Error {
    if (schema === null || typeof schema !== 'object') return new TypeError('Invalid value used as weak map key');
    // The resolved document holds one copy of a shared schema per reference: compile each text once.
    const text = JSON.stringify(schema);
    const cached = this.compiled.get(schema) ?? this.byText.get(text);
    if (cached) return cached;
    let result: Compiled | Error;
    try {
      const ajv = this.instance(dialectOf(schema as Record<string, unknown>));
      const id = (schema as { $id?: unknown }).$id;
      result = (typeof id === 'string' ? ajv.getSchema(id) : undefined) ?? ajv.compile(schema);
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    }
    this.compiled.set(schema, result);
    this.byText.set(text, result);
    return result;
  }

  private instance(module: 'ajv/dist/2019.js' | 'ajv/dist/2020.js' | 'ajv'): AjvInstance {
    let ajv = this.instances.get(module);
    if (!ajv) {
      const loaded = require(module) as { default: AjvClass };
      ajv = new loaded.default(OPTIONS);
      (require('ajv-formats') as { default: (ajv: AjvInstance) => void }).default(ajv);
      this.instances.set(module, ajv);
    }
    return ajv;
  }
}

/** "<where> <ajv message>", e.g. `/total must be number`. */
export function describe(error: AjvError): string {
  const where = error.instancePath || '';
  if (error.keyword === 'additionalProperties') return `${where ? where + ': ' : ''}property "${String(error.params.additionalProperty)}" is not allowed`;
  return `${where ? where + ' ' : ''}${error.message ?? error.keyword}`;
}

/** The path segments of an ajv instancePath. */
export function instanceSegments(instancePath: string): string[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
