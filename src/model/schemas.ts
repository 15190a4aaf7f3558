import path from 'node:path';
import { documentError } from '../errors.js';
import { parsePointer } from '../load/pointer.js';
import { pascalCase, schemaDescription, typeName, UniqueNames } from './names.js';
import { isRecord } from '../load/json.js';
import { DocumentReader, refOf, type Located } from '../load/reader.js';
import type { JsonSchema, Origin } from './types.js';

/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems'];
/** Keywords whose value is a map of schemas. */
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas'];
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
/**
 * Keywords dropped from the copies: names are chosen by the model, not by `title`; ids would confuse the
 * resolver. json-schema-to-typescript's own extensions (`tsType`, `tsEnumNames`, draft-3 `extends`) would
 * let a document write TypeScript into types.ts, and ajv's `$async` would make a validator return a
 * promise (always truthy): none is a JSON Schema keyword, so dropping them changes no validation.
 */
const DROPPED_KEYWORDS = new Set(['title', '$id', 'id', '$schema', '$comment', 'tsType', 'tsEnumNames', 'extends', '$async']);

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
      if (DROPPED_KEYWORDS.has(key) || key === '$ref') continue;
      const raw = this.reader.rawChild(node, key)!;
      if (SCHEMA_KEYWORDS.includes(key) && (isRecord(raw.value) || typeof raw.value === 'boolean')) {
        out[key] = this.sub(raw, depth);
      } else if (key === 'items' && Array.isArray(raw.value)) {
        out[key] = raw.value.map((_, i) => this.sub(this.reader.rawChild(raw, i)!, depth));
      } else if (SCHEMA_MAP_KEYWORDS.includes(key) && isRecord(raw.value)) {
        const map: Record<string, JsonSchema> = {};
        for (const name of Object.keys(raw.value)) {
          Object.defineProperty(map, name, { value: this.sub(this.reader.rawChild(raw, name)!, depth), enumerable: true, writable: true, configurable: true });
        }
        out[key] = map;
      } else if (SCHEMA_LIST_KEYWORDS.includes(key) && Array.isArray(raw.value)) {
        out[key] = raw.value.map((_, i) => this.sub(this.reader.rawChild(raw, i)!, depth));
      } else if (key === 'description' && typeof value[key] === 'string') {
        out[key] = schemaDescription(value[key]);
      } else {
        out[key] = value[key];
      }
    }
    if (typeof value.title === 'string') this.titles.set(out, value.title);
    return out;
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
