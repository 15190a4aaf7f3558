// The parser's 2.x schema rules (v2SchemasRuleset): message examples against their payload and
// headers, schema defaults and examples against their schema, and payload schemas against the
// AsyncAPI Schema Object of the document's version.
import { isAvroFormat } from '../../model/avro.js';
import { isProtobufFormat } from '../../model/protobuf.js';
import { SUPPORTED_VERSIONS, loadValidator } from '../structure.js';
import { isRecord } from '../../load/json.js';
import { has, select, selectAll, type Finding, type Match, type Path, type RuleContext } from './context.js';
import { describe, instanceSegments, SchemaChecker } from './json-schema.js';

const checkers = new WeakMap<RuleContext, SchemaChecker>();
function checkerFor(context: RuleContext): SchemaChecker {
  let checker = checkers.get(context);
  if (!checker) checkers.set(context, (checker = new SchemaChecker()));
  return checker;
}

const OPERATION_MESSAGES = ['channels.*.[publish,subscribe].message', 'components.channels.*.[publish,subscribe].message'];
const ONE_OF_MESSAGES = ['channels.*.[publish,subscribe].message.oneOf.*', 'components.channels.*.[publish,subscribe].message.oneOf.*'];
const MESSAGE_TRAITS = [
  'channels.*.[publish,subscribe].message.traits.*',
  'channels.*.[publish,subscribe].message.oneOf.*.traits.*',
  'components.channels.*.[publish,subscribe].message.traits.*',
  'components.channels.*.[publish,subscribe].message.oneOf.*.traits.*',
  'components.messages.*.traits.*',
  'components.messageTraits.*',
];

/** Messages and message traits whose examples the parser checks, with or without a `schemaFormat`. */
function exampleHolders(context: RuleContext, withFormat: boolean): Match[] {
  const all = selectAll(context.resolved, [...OPERATION_MESSAGES, ...ONE_OF_MESSAGES, 'components.messages.*', ...MESSAGE_TRAITS]);
  return all.filter(({ value }) => {
    if (!isRecord(value) || (value.schemaFormat !== undefined) !== withFormat) return false;
    // The parser's input schema: name and summary, when present, are strings.
    return (value.name === undefined || typeof value.name === 'string') && (value.summary === undefined || typeof value.summary === 'string');
  });
}

/** The parser's serializeSchema: a missing payload accepts anything, missing headers any object. */
function exampleSchema(schema: unknown, type: 'payload' | 'headers'): unknown {
  if (typeof schema === 'boolean') return schema ? {} : { not: {} };
  if (!schema) return type === 'headers' ? { type: 'object' } : {};
  return schema;
}

function checkExample(context: RuleContext, schema: unknown, value: unknown, path: Path): Finding[] {
  const outcome = checkerFor(context).check(schema, value);
  if (!outcome) return [];
  const label = `example ${String(path[path.length - 2])} ${String(path[path.length - 1])}`;
  if ('compileError' in outcome) return [{ path, message: `${label}: ${outcome.compileError}` }];
  return outcome.errors.map((error) => ({ path: [...path, ...instanceSegments(error.instancePath)], message: `${label} does not match its schema: ${describe(error)}` }));
}

function examplesOf(holder: Record<string, unknown>): Array<{ index: number; example: Record<string, unknown> }> {
  if (!Array.isArray(holder.examples)) return [];
  return holder.examples.flatMap((example, index) => (isRecord(example) ? [{ index, example }] : []));
}

/** asyncapi2-message-examples: each example's payload and headers match the message's schemas. */
export function messageExamples(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of exampleHolders(context, false)) {
    const holder = value as Record<string, unknown>;
    if (!holder.examples) continue;
    for (const { index, example } of examplesOf(holder)) {
      for (const type of ['payload', 'headers'] as const) {
        if (example[type] === undefined) continue;
        findings.push(...checkExample(context, exampleSchema(holder[type], type), example[type], [...path, 'examples', index, type]));
      }
    }
  }
  return findings;
}

/**
 * asyncapi2-message-examples-custom-format: with a `schemaFormat`, the parser checks each example's
 * payload against the payload as its schema parser returns it; with no parser registered for the
 * format (Avro, Protobuf...), that is the payload unchanged, read as a JSON Schema.
 */
export function messageExamplesCustomFormat(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of exampleHolders(context, true)) {
    const holder = value as Record<string, unknown>;
    if (!holder.examples || !holder.payload) continue;
    for (const { index, example } of examplesOf(holder)) {
      if (example.payload === undefined) continue;
      findings.push(...checkExample(context, holder.payload, example.payload, [...path, 'examples', index, 'payload']));
    }
  }
  return findings;
}

const SCHEMAS_WITH_VALUES = [
  'channels.*.parameters.*.schema',
  'components.channels.*.parameters.*.schema',
  'components.schemas.*',
  'components.parameters.*.schema',
];

/** Schemas whose `default` or `examples` the parser checks (only top-level schemas, as its `given` says). */
function schemasHolding(context: RuleContext, key: 'default' | 'examples'): Match[] {
  const payloads = selectAll(context.resolved, [...OPERATION_MESSAGES, 'components.messages.*', 'components.messageTraits.*'])
    .filter(({ value }) => isRecord(value) && value.schemaFormat === undefined)
    .flatMap(({ path, value }) => select(value, 'payload').map((match) => ({ path: [...path, ...match.path], value: match.value })));
  return [...payloads, ...selectAll(context.resolved, SCHEMAS_WITH_VALUES)].filter(({ value }) => isRecord(value) && has(value, key));
}

function schemaValues(context: RuleContext, key: 'default' | 'examples'): Finding[] {
  const findings: Finding[] = [];
  for (const { path, value } of schemasHolding(context, key)) {
    const schema = value as Record<string, unknown>;
    if (schema.examples !== undefined && !Array.isArray(schema.examples)) {
      findings.push({ path, message: 'the schema must be an object containing "default" or an "examples" array' });
      continue;
    }
    const items = key === 'default' ? [{ at: ['default'] as Path, item: schema.default }] : (schema.examples as unknown[]).map((item, i) => ({ at: ['examples', i] as Path, item }));
    for (const { at, item } of items) {
      // The parser drops findings about string values.
      if (typeof item === 'string') continue;
      const outcome = checkerFor(context).check(schema, item);
      if (!outcome) continue;
      const label = at.join(' ');
      if ('compileError' in outcome) findings.push({ path: [...path, ...at], message: `${label}: ${outcome.compileError}` });
      else for (const error of outcome.errors) findings.push({ path: [...path, ...at, ...instanceSegments(error.instancePath)], message: `${label} does not match its schema: ${describe(error)}` });
    }
  }
  return findings;
}

/** asyncapi2-schema-default: a schema's `default` matches the schema. */
export function schemaDefault(context: RuleContext): Finding[] {
  return schemaValues(context, 'default');
}

/** asyncapi2-schema-examples: a schema's `examples` match the schema. */
export function schemaExamples(context: RuleContext): Finding[] {
  return schemaValues(context, 'examples');
}

const DRAFT_07 = ['application/schema;version=draft-07', 'application/schema+json;version=draft-07', 'application/schema+yaml;version=draft-07'];
const REGISTERED_FORMATS = new Set([
  ...DRAFT_07,
  ...SUPPORTED_VERSIONS.flatMap((v) => [`application/vnd.aai.asyncapi;version=${v}`, `application/vnd.aai.asyncapi+json;version=${v}`, `application/vnd.aai.asyncapi+yaml;version=${v}`]),
]);

/**
 * asyncapi2-schemas: a payload in an AsyncAPI or JSON Schema format is a valid AsyncAPI Schema
 * Object of the document's version; a format the parser has no schema parser for is a warning
 * (Avro and Protobuf excepted: codegen reads them, as the parser does with their schema parsers registered).
 * The Schema Object validator is the precompiled document validator, run on a small document
 * that holds the payloads under components.schemas (whose values are exactly Schema Objects).
 */
export function payloadSchemas(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const payloads: Array<{ path: Path; payload: unknown }> = [];
  for (const { path, value } of selectAll(context.resolved, [...OPERATION_MESSAGES, ...ONE_OF_MESSAGES, 'components.messages.*'])) {
    if (!isRecord(value) || (value.schemaFormat !== undefined && typeof value.schemaFormat !== 'string') || !value.payload) continue;
    const format = typeof value.schemaFormat === 'string' ? value.schemaFormat : `application/vnd.aai.asyncapi;version=${context.version}`;
    if (REGISTERED_FORMATS.has(format)) payloads.push({ path: [...path, 'payload'], payload: value.payload });
    else if (isAvroFormat(format) || isProtobufFormat(format)) continue; // read by the model (src/model/avro.ts, protobuf.ts), which reports what it cannot read
    else findings.push({ path: [...path, 'schemaFormat'], message: `No schema parser registered for "${format}"`, severity: 'warning' });
  }
  if (payloads.length === 0) return findings;
  const schemas: Record<string, unknown> = {};
  payloads.forEach(({ payload }, index) => (schemas[`p${index}`] = payload));
  const validator = loadValidator(context.version);
  const carrier = { asyncapi: context.version, info: { title: 'payloads', version: '0' }, channels: {}, components: { schemas } };
  if (validator(carrier)) return findings;
  for (const error of validator.errors ?? []) {
    const [components, holder, key, ...rest] = instanceSegments(error.instancePath);
    if (components !== 'components' || holder !== 'schemas' || !key?.startsWith('p')) continue;
    const target = payloads[Number(key.slice(1))];
    if (!target || error.keyword === 'oneOf' || error.keyword === 'anyOf') continue;
    findings.push({ path: [...target.path, ...rest], message: `the payload is not a valid schema: ${describe({ ...error, instancePath: rest.length ? '/' + rest.join('/') : '' })}` });
  }
  return findings;
}
