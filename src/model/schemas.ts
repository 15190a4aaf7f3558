import path from 'node:path';
import { CodegenError, documentError, type Diagnostic } from '../errors.js';
import { parsePointer } from '../load/pointer.js';
import { pascalCase, schemaDescription, typeName, UniqueNames } from './names.js';
import { isRecord } from '../load/json.js';
import { DocumentReader, refOf, type Located } from '../load/reader.js';
import type { JsonSchema, Origin } from './types.js';

/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = new Set(['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems', 'contentSchema']);
/** Keywords whose value is a map of schemas (`dependencies` also maps names to lists of names). */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies']);
/** Keywords whose value is a list of schemas (`items` too, in its draft-07 list form). */
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
/**
 * Keywords whose value is data: a type, a number, a pattern, a list of names, an instance
 * (`const`, `enum`, `default`, `examples`), or an annotation the AsyncAPI Schema Object adds
 * (`discriminator`, `externalDocs`). A `$ref` inside one is replaced by the value it names, as
 * @asyncapi/parser does, so json-schema-to-typescript and ajv never see it.
 */
const VALUE_KEYWORDS = new Set([
  'type', 'enum', 'const', 'default', 'examples', 'example', 'format', 'required', 'description',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'uniqueItems', 'minContains', 'maxContains', 'minProperties', 'maxProperties', 'dependentRequired',
  'readOnly', 'writeOnly', 'deprecated', 'contentMediaType', 'contentEncoding', 'discriminator', 'externalDocs', 'xml',
]);
/**
 * Keywords dropped from the copies: names are chosen by the model, not by `title`; ids would confuse the
 * resolver. json-schema-to-typescript's own extensions (`tsType`, `tsEnumNames`, draft-3 `extends`) would
 * let a document write TypeScript into types.ts, and ajv's `$async` would make a validator return a
 * promise (always truthy): none is a JSON Schema keyword, so dropping them changes no validation.
 * Any other keyword not listed above is dropped too (JSON Schema ignores it; a `$ref` under it would
 * reach the tools unresolved), with a warning when it looks like a mistake (unknownKeywordWarning).
 */
/** Value keywords that only annotate: they change no validation. */
const ANNOTATIONS = new Set(['default', 'examples', 'example', 'description', 'readOnly', 'writeOnly', 'deprecated', 'discriminator', 'externalDocs', 'xml', 'contentMediaType', 'contentEncoding']);
const DROPPED_KEYWORDS = new Set(['title', '$id', 'id', '$schema', '$comment', 'tsType', 'tsEnumNames', 'extends', '$async', '$ref']);
const KNOWN_KEYWORDS = new Set([...SCHEMA_KEYWORDS, ...SCHEMA_MAP_KEYWORDS, ...SCHEMA_LIST_KEYWORDS, ...VALUE_KEYWORDS, ...DROPPED_KEYWORDS]);

/**
 * Deepest inline schema nesting accepted (a `$ref` to a named schema starts again at 0); deeper
 * documents are refused rather than overflowing the stack. Formatting types.ts (prettier) overflows
 * the default stack between 160 and 200 nested object levels: 128 keeps a margin, and is far above
 * what real documents nest (bench/hostile/RESULTS.md).
 */
export const MAX_SCHEMA_DEPTH = 128;

/**
 * Collects the document's schemas into one `definitions` map with generated, unique names.
 * Every `$ref` becomes `#/definitions/<Name>`, so recursive and shared schemas stay finite and named once.
 */
export class SchemaRegistry {
  readonly definitions: Record<string, JsonSchema> = {};
  readonly origins: Record<string, Origin> = {};
  /** The `title` of each copied schema object (dropped from the copy; `diff` reports title changes). */
  readonly titles = new WeakMap<object, string>();
  /** Keywords left out of the schemas that look like mistakes, with their places. */
  readonly warnings: Diagnostic[] = [];
  private readonly warned = new Set<string>();
  private readonly byLocation = new Map<string, string>();

  constructor(
    private readonly reader: DocumentReader,
    private readonly names: UniqueNames,
  ) {}

  /** Registers a schema under a name derived from `suggested` (or from its component key) and returns the name. */
  add(node: Located, suggested: string): string {
    const resolved = this.reader.resolve(node);
    const known = this.byLocation.get(this.reader.key(resolved));
    if (known) return known;
    const name = this.names.claim(typeName(componentName(resolved) ?? suggested));
    this.define(name, resolved);
    return name;
  }

  /** A schema to embed in another (a parameter's): copied inline, its `$ref`s named as usual. */
  inline(node: Located): JsonSchema {
    return this.sub(node, 0);
  }

  /** Registers a schema built by the model (e.g. a parameter set) under a name. */
  addSynthetic(suggested: string, schema: JsonSchema, origin: Origin): string {
    const name = this.names.claim(typeName(suggested));
    this.definitions[name] = schema;
    this.origins[name] = origin;
    return name;
  }

  private define(name: string, node: Located): void {
    this.byLocation.set(this.reader.key(node), name);
    this.origins[name] = this.reader.origin(node);
    this.definitions[name] = true; // placeholder while recursing, so cycles see the name
    this.definitions[name] = this.copy(node, 0);
  }

  private copy(node: Located, depth: number): JsonSchema {
    if (depth > MAX_SCHEMA_DEPTH) {
      throw documentError(
        'E_SCHEMA_TOO_DEEP',
        `refused: a schema nests more than ${MAX_SCHEMA_DEPTH} levels deep (resource exhaustion guard); name inner schemas as components and $ref them`,
        this.reader.origin(node, true),
      );
    }
    const value = node.value;
    if (typeof value === 'boolean') return value;
    if (!isRecord(value)) return {};
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (DROPPED_KEYWORDS.has(key)) continue;
      const raw = this.reader.rawChild(node, key)!;
      if (!KNOWN_KEYWORDS.has(key)) {
        this.warnUnknown(key, raw);
        continue;
      }
      const copied = this.keyword(key, raw, depth);
      if (copied !== undefined) Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true });
    }
    if (typeof value.title === 'string') this.titles.set(out, value.title);
    return out;
  }

  /** The value of one known keyword, with every `$ref` in it named (schemas) or replaced (data); undefined to leave it out. */
  private keyword(key: string, raw: Located, depth: number): unknown {
    const isSchema = (v: unknown) => isRecord(v) || typeof v === 'boolean';
    if (SCHEMA_KEYWORDS.has(key) && isSchema(raw.value)) return this.sub(raw, depth);
    if (VALUE_KEYWORDS.has(key)) {
      const data = ANNOTATIONS.has(key) ? this.annotation(key, raw) : this.data(raw, new Set());
      if (key !== 'description') return data;
      return typeof data === 'string' ? schemaDescription(data) : undefined;
    }
    // A map or list of schemas may itself be a `$ref` (`properties: { $ref: '…/properties' }`).
    const container = SCHEMA_MAP_KEYWORDS.has(key) || SCHEMA_LIST_KEYWORDS.has(key) ? this.reader.resolve(raw) : raw;
    if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(container.value)) {
      return container.value.map((_, i) => this.sub(this.reader.rawChild(container, i)!, depth));
    }
    if (SCHEMA_MAP_KEYWORDS.has(key) && isRecord(container.value)) {
      const map: Record<string, unknown> = {};
      for (const name of Object.keys(container.value)) {
        const entry = this.reader.rawChild(container, name)!;
        // `dependencies` maps a name to a schema or to a list of names (which may be a `$ref` too).
        const copied = isSchema(this.reader.resolve(entry).value) ? this.sub(entry, depth) : this.data(entry, new Set());
        Object.defineProperty(map, name, { value: copied, enumerable: true, writable: true, configurable: true });
      }
      return map;
    }
    // A schema keyword holding something else (structure validation reports it): copied as data.
    return this.data(raw, new Set());
  }

  /**
   * An annotation's value; one that would be infinite (a `$ref` in a `default` naming the schema
   * holding it) changes no validation, so it is left out with a warning rather than refusing the document.
   */
  private annotation(key: string, raw: Located): unknown {
    try {
      return this.data(raw, new Set());
    } catch (error) {
      if (!(error instanceof CodegenError) || error.diagnostics[0]?.code !== 'E_REF_CYCLE') throw error;
      this.warnings.push({ ...error.diagnostics[0], code: 'W_VALUE_REF_CYCLE', severity: 'warning', message: `"${key}" left out: ${error.diagnostics[0].message}` });
      return undefined;
    }
  }

  /**
   * A value that is data (an instance, a list of names...), with every `$ref` in it replaced by the
   * value it names, as @asyncapi/parser does. A value that holds no `$ref` is returned as it is.
   */
  private data(node: Located, active: Set<string>): unknown {
    const resolved = refOf(node.value) === undefined ? node : this.reader.resolve(node);
    const value = resolved.value;
    if (value === null || typeof value !== 'object' || !containsRef(value)) return value;
    const key = this.reader.key(resolved);
    if (active.has(key)) {
      throw documentError('E_REF_CYCLE', 'a $ref inside a value (const, enum, default, examples...) names a value that holds it: the value would be infinite', this.reader.origin(node, true));
    }
    active.add(key);
    let copied: unknown;
    if (Array.isArray(value)) {
      copied = value.map((_, i) => this.data(this.reader.rawChild(resolved, i)!, active));
    } else {
      const out: Record<string, unknown> = {};
      for (const name of Object.keys(value)) {
        Object.defineProperty(out, name, { value: this.data(this.reader.rawChild(resolved, name)!, active), enumerable: true, writable: true, configurable: true });
      }
      copied = out;
    }
    active.delete(key);
    return copied;
  }

  /**
   * Warns about an unknown keyword that holds a schema or a `$ref`: JSON Schema ignores it, so it is
   * most likely a property written without `properties`, or a misspelt keyword. Extensions (`x-…`)
   * and plain values (`nullable: true`) are left out silently.
   */
  private warnUnknown(key: string, raw: Located): void {
    if (key.startsWith('x-') || !looksLikeSchema(raw.value)) return;
    const where = this.reader.origin(raw, true);
    const id = `${where.file}#${where.pointer}`;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    const known = [...KNOWN_KEYWORDS].find((k) => k.toLowerCase() === key.toLowerCase());
    const hint = known ? `did you mean "${known}"?` : `if "${key}" is a property, put it under "properties"`;
    this.warnings.push({
      code: 'W_SCHEMA_UNKNOWN_KEYWORD',
      severity: 'warning',
      message: `"${key}" is not a JSON Schema keyword: the schema under it constrains nothing and is left out of the generated types and validators (${hint})`,
      location: where,
    });
  }

  /** A subschema: a `$ref` becomes a named definition; anything else is copied inline. */
  private sub(node: Located, depth: number): JsonSchema {
    if (refOf(node.value) === undefined) return this.copy(node, depth + 1);
    const target = this.reader.resolve(node);
    const known = this.byLocation.get(this.reader.key(target));
    if (known) return { $ref: `#/definitions/${known}` };
    const name = this.names.claim(typeName(componentName(target) ?? pascalCase(lastSegment(target.at.pointer) || path.basename(target.at.file.id, path.extname(target.at.file.id)), 'Schema')));
    this.define(name, target);
    return { $ref: `#/definitions/${name}` };
  }
}

/** `#/components/schemas/lightMeasuredPayload` → `LightMeasuredPayload`; a whole file → its base name. */
function componentName(node: Located): string | undefined {
  const segments = parsePointer(node.at.pointer);
  if (segments.length === 3 && segments[0] === 'components' && segments[1] === 'schemas') return pascalCase(segments[2]!, 'Schema');
  // Headers shared through a message trait are named after the trait: `commonHeaders` → `CommonHeaders`.
  if (segments.length === 4 && segments[0] === 'components' && segments[1] === 'messageTraits' && segments[3] === 'headers') {
    const trait = pascalCase(segments[2]!, 'Trait');
    return trait.endsWith('Headers') ? trait : `${trait}Headers`;
  }
  if (segments.length === 0) {
    return pascalCase(path.basename(node.at.file.id, path.extname(node.at.file.id)), 'Schema');
  }
  return undefined;
}

function lastSegment(pointer: string): string {
  const segments = parsePointer(pointer);
  return segments[segments.length - 1] ?? '';
}

/** True when a value holds a `$ref` anywhere (no recursion: values may nest deeply). */
function containsRef(value: object): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (refOf(node) !== undefined) return true;
    for (const child of Object.values(node)) stack.push(child);
  }
  return false;
}

/** A schema-shaped value: an object with a `$ref` or a keyword, or a list holding one. */
function looksLikeSchema(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(looksLikeSchema);
  return isRecord(value) && Object.keys(value).some((key) => key === '$ref' || (KNOWN_KEYWORDS.has(key) && key !== 'description'));
}
