#!/usr/bin/env node
// Run-time cost of generated code without a broker, in one process (started by bench/run.mjs):
//
// 1. Validator throughput: the ajv standalone validators codegen generates (validators/strict.compiled.ts,
//    compiled to JavaScript by tsc) against ajv compiling the same schemas at run time with the same
//    options (allErrors, strict: false, no coercion, code.optimize 1, ajv-formats; the generated code uses
//    codegen's own format functions instead of ajv-formats). Both sides validate the same instances (about
//    90% valid, 10% invalid) in alternating rounds; they must agree on every verdict or the figure is void.
//    The typed facade (validators.ts: `check()` turning ajv errors into issues) is measured too.
// 2. Envelope cost per event: build (createEnvelope + envelopeToHeaders) and read (envelopeFromHeaders +
//    readEnvelope) of the generated runtime/envelope.ts, with JSON.stringify + JSON.parse of the same
//    payload as a yardstick (work every event pays anyway).
// Rates are per second of this process's CPU time (process.cpuUsage), so a loaded machine distorts
// them less than wall time would.
//
//   node bench/lib/runtime-bench.mjs <document> <workDir> [rounds=5] [msPerRound=300]
//
// The last line on stdout is one JSON object with every figure.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The codegen measured: the bench's snapshot when run by bench/run.mjs, else the working tree.
const CODEGEN = process.env.CODEGEN_ROOT ? path.resolve(process.env.CODEGEN_ROOT) : ROOT;
const [document, workDir] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const ROUNDS = Number(process.argv[4] ?? 5);
const MS_PER_ROUND = Number(process.argv[5] ?? 300);
const requireRoot = createRequire(path.join(ROOT, 'package.json'));

// --- generate and compile ------------------------------------------------------------------------
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
const out = path.join(workDir, 'out');
const js = path.join(workDir, 'js');
execFileSync(process.execPath, [path.join(CODEGEN, 'bin/codegen.js'), 'generate', document, '--out', out, '--no-cache'], { stdio: ['ignore', 'ignore', 'inherit'] });
writeFileSync(
  path.join(workDir, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', outDir: js, rootDir: out, skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] },
    include: [path.join(out, '**/*.ts')],
  }),
);
execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(workDir, 'tsconfig.json')], { stdio: 'inherit' });
const generated = await import(pathToFileURL(path.join(js, 'validators/strict.compiled.js')).href);
const facade = await import(pathToFileURL(path.join(js, 'validators.js')).href);
const envelope = await import(pathToFileURL(path.join(js, 'runtime/envelope.js')).href);

// --- the same schemas compiled by ajv at run time --------------------------------------------------
const { loadValidatedDocument } = await import(pathToFileURL(path.join(CODEGEN, 'dist/pipeline/document.js')).href);
const { model } = await loadValidatedDocument(document);
const { Ajv } = requireRoot('ajv');
const addFormats = requireRoot('ajv-formats').default ?? requireRoot('ajv-formats');
const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, logger: false, addUsedSchema: false, code: { optimize: 1 } });
addFormats(ajv);
ajv.addSchema({ $id: 'codegen-schemas.json', definitions: model.schemas });
const types = [...new Set(model.messages.map((m) => m.payloadTypeName))];
const runtime = Object.fromEntries(types.map((t) => [t, ajv.getSchema(`codegen-schemas.json#/definitions/${t}`)]));

// --- instances: a small deterministic generator for the JSON Schema the documents use --------------
const FORMAT_VALUES = { uuid: '6f1c1d1e-8b2a-4c55-9d0e-2f4a3b5c6d7e', 'date-time': '2026-11-26T08:00:00Z', date: '2026-11-26', email: 'ops@example.com', hostname: 'api.example.com', uri: 'https://example.com/orders/1', ipv4: '192.0.2.1' };
function resolve(schema) {
  let s = schema;
  while (s && s.$ref) s = model.schemas[s.$ref.split('/').pop()];
  return s ?? {};
}
function instance(schema, i, depth = 0) {
  const s = resolve(schema);
  const deep = depth > 3; // recursive schemas: only what is required, arrays empty
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[i % s.enum.length];
  for (const key of ['oneOf', 'anyOf']) if (s[key]) return instance(s[key][0], i, depth + 1);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((part) => instance(part, i, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type ?? (s.properties ? 'object' : 'string');
  switch (type) {
    case 'object': {
      const object = {};
      for (const [name, child] of Object.entries(s.properties ?? {})) {
        if ((s.required ?? []).includes(name) || (!deep && (i + name.length) % 4 !== 0)) object[name] = instance(child, i + 1, depth + 1);
      }
      return object;
    }
    case 'array':
      return Array.from({ length: deep ? (s.minItems ?? 0) : Math.max(s.minItems ?? 0, 1 + (i % 3)) }, (_, k) => instance(s.items ?? {}, i + k, depth + 1));
    case 'integer':
    case 'number': {
      const low = s.minimum ?? 0;
      const high = s.maximum ?? low + 1000;
      const value = low + ((i * 7) % (high - low + 1));
      return type === 'integer' ? Math.floor(value) : value + (high > value ? 0.5 : 0);
    }
    case 'boolean':
      return i % 2 === 0;
    case 'null':
      return null;
    default: {
      if (s.format && FORMAT_VALUES[s.format]) return FORMAT_VALUES[s.format];
      const text = `value-${i}`;
      return s.maxLength !== undefined ? text.slice(0, s.maxLength) : text;
    }
  }
}
/** Every tenth instance broken: a required field removed, or a wrong type for the first property. */
function broken(value, schema, i) {
  const s = resolve(schema);
  const copy = structuredClone(value);
  const required = s.required ?? [];
  if (required.length > 0 && i % 20 === 0) delete copy[required[0]];
  else {
    const first = Object.keys(s.properties ?? {})[0];
    if (first) copy[first] = { wrong: true };
  }
  return copy;
}
const samples = [];
// The document's own message examples first (valid by the document), then generated instances.
for (const message of model.messages) {
  for (const example of message.examples ?? []) if (example.payload !== undefined) samples.push({ type: message.payloadTypeName, value: example.payload });
}
for (const type of types) {
  for (let i = 0; i < 20; i++) {
    const value = instance(model.schemas[type], i);
    samples.push({ type, value: i % 10 === 9 ? broken(value, model.schemas[type], i) : value });
  }
}

// --- agreement check: the same verdict from both validators on every instance ----------------------
let disagreements = 0;
let valid = 0;
for (const { type, value } of samples) {
  const a = generated[`validate${type}`](value);
  const b = runtime[type](value);
  if (a !== b) disagreements++;
  if (b) valid++;
}

// --- throughput ------------------------------------------------------------------------------------
// Time is this process's CPU time (user + system), not wall time: on a loaded machine the process is
// descheduled now and then, which wall time would count as work. On a quiet machine the two agree.
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
let verdicts = 0;
function throughput(plan) {
  let count = 0;
  const started = cpuMs();
  let elapsed = 0;
  while (elapsed < MS_PER_ROUND) {
    for (let i = 0; i < plan.length; i++) if (plan[i][0](plan[i][1])) verdicts++;
    count += plan.length;
    elapsed = cpuMs() - started;
  }
  return (count / elapsed) * 1000;
}
// Each side gets its own list of [function, value] pairs, resolved once, so the timed loop is the
// same for every side: one call per instance, no look-up by name.
const plans = {
  generated: samples.map(({ type, value }) => [generated[`validate${type}`], value]),
  ajv: samples.map(({ type, value }) => [runtime[type], value]),
  facade: samples.map(({ type, value }) => [facade[`validate${type}`], value]),
};
const rates = { generated: [], ajv: [], facade: [] };
for (const name of Object.keys(plans)) throughput(plans[name]); // warm-up (JIT)
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['generated', 'ajv', 'facade'] : ['ajv', 'generated', 'facade'];
  for (const name of order) rates[name].push(throughput(plans[name]));
}

// --- envelope --------------------------------------------------------------------------------------
const mapping = { prefix: 'ce_', contentTypeHeader: 'content-type' };
const payload = samples[0].value;
const input = { type: 'com.example.entity.changed', source: '/bench', datacontenttype: 'application/json', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', correlationid: 'c-1' };
let headers = envelope.envelopeToHeaders(envelope.createEnvelope(input), mapping);
const read = envelope.readEnvelope(envelope.envelopeFromHeaders(headers, mapping));
if (!read.ok) throw new Error(`envelope round trip failed: ${JSON.stringify(read.issues)}`);
function nsPerOp(fn) {
  let count = 0;
  const started = cpuMs();
  let elapsed = 0;
  while (elapsed < MS_PER_ROUND) {
    for (let i = 0; i < 1000; i++) fn();
    count += 1000;
    elapsed = cpuMs() - started;
  }
  return (elapsed * 1e6) / count;
}
let sink = 0;
const envelopeSides = {
  build: () => {
    headers = envelope.envelopeToHeaders(envelope.createEnvelope(input), mapping);
  },
  read: () => {
    sink += envelope.readEnvelope(envelope.envelopeFromHeaders(headers, mapping)).ok ? 1 : 0;
  },
  json: () => {
    sink += JSON.parse(JSON.stringify(payload)) ? 1 : 0;
  },
};
const envelopeNs = { build: [], read: [], json: [] };
for (const name of Object.keys(envelopeSides)) nsPerOp(envelopeSides[name]);
for (let round = 0; round < ROUNDS; round++) for (const name of Object.keys(envelopeSides)) envelopeNs[name].push(nsPerOp(envelopeSides[name]));

// --- per event: the generated client's own CPU, broker excluded ------------------------------------------
// Publish: runtime/producer.ts prepareOutbound (validation, envelope, CloudEvents and application
// headers, encoding) with the RabbitMQ mapping of the envelope onto AMQP headers (runtime/rabbitmq/message.ts).
// Consume: runtime/consumer.ts ConsumerPipeline.process (size check, envelope read, JSON decode, header and
// payload validation, de-duplication with the in-memory store, the handler call, the outcome), every event
// with a new id. The target (issue 14) is at most 3 µs each.
const producer = await import(pathToFileURL(path.join(js, 'runtime/producer.js')).href);
const consumer = await import(pathToFileURL(path.join(js, 'runtime/consumer.js')).href);
const rabbitMessage = await import(pathToFileURL(path.join(js, 'runtime/rabbitmq/message.js')).href).catch(() => null);
const { operations: specs } = await import(pathToFileURL(path.join(js, 'operations.js')).href);
const outMapping = rabbitMessage ? rabbitMessage.outboundMapping('cloudEvents:') : mapping;
const inMapping = rabbitMessage ? rabbitMessage.INBOUND_MAPPING : mapping;
const defaults = { source: '/bench', validate: true };
/** The first operation and sample payload that make a valid event (headers the sample's, or none). */
function eventFixture() {
  for (const spec of Object.values(specs)) {
    for (const { value } of samples) {
      if (!spec.validatePayload(value).ok) continue;
      const outbound = { operation: spec.operation, type: spec.eventType(value), contentType: spec.contentType, mapping: outMapping, validatePayload: spec.validatePayload, validateHeaders: spec.validateHeaders };
      try {
        producer.prepareOutbound(outbound, value, {}, defaults);
        return { spec, outbound, payload: value };
      } catch {
        // headers required: try the next operation
      }
    }
  }
  throw new Error('no operation of the document takes a sample payload without headers');
}
const fixture = eventFixture();
const prepared = producer.prepareOutbound(fixture.outbound, fixture.payload, {}, defaults);
const inboundSpec = { operation: fixture.spec.operation, mapping: inMapping, validatePayload: fixture.spec.validatePayload, validateHeaders: fixture.spec.validateHeaders };
const pipeline = new consumer.ConsumerPipeline(inboundSpec, { retry: { maxAttempts: 1 } });
// The same without de-duplication: the in-memory store's share (a look-up and an insert in a table of up to
// 100,000 ids, whose cost follows the machine's memory latency) is the difference.
const pipelineWithoutStore = new consumer.ConsumerPipeline(inboundSpec, { retry: { maxAttempts: 1 }, idempotencyStore: false });
const signal = new AbortController().signal;
let eventNumber = 0;
// The headers as a broker's adapter hands them over: a fresh object per event, under the inbound names, with
// the event's own id. The renaming is worked out once, so the harness's share of "consume" stays small.
const inboundEntries = Object.entries(prepared.headers).map(([key, value]) => [key.replace(outMapping.prefix, inMapping.prefix), key === outMapping.prefix + 'id' ? undefined : value]);
const inboundHeaders = (id) => {
  const headers = {};
  for (const [key, value] of inboundEntries) headers[key] = value ?? id;
  return headers;
};
const handler = async () => {};
/** CPU ns per awaited call (the consumer pipeline is async: each call is awaited, as a broker's loop does). */
async function nsPerAsyncOp(fn) {
  let count = 0;
  const started = cpuMs();
  let elapsed = 0;
  while (elapsed < MS_PER_ROUND) {
    for (let i = 0; i < 1000; i++) await fn();
    count += 1000;
    elapsed = cpuMs() - started;
  }
  return (elapsed * 1e6) / count;
}
const eventSides = {
  publish: async () => {
    const event = producer.prepareOutbound(fixture.outbound, fixture.payload, {}, defaults);
    sink += Object.keys(event.headers).length;
  },
  consume: async () => {
    const outcome = await pipeline.process({ body: prepared.body, headers: inboundHeaders(`e-${eventNumber++}`), deliveryAttempt: 1 }, handler, 'in-process', signal);
    if (outcome.action !== 'ack' || outcome.duplicate) throw new Error(`consume: ${JSON.stringify(outcome)}`);
  },
  'consume without de-duplication': async () => {
    const outcome = await pipelineWithoutStore.process({ body: prepared.body, headers: inboundHeaders(`n-${eventNumber++}`), deliveryAttempt: 1 }, handler, 'in-process', signal);
    if (outcome.action !== 'ack') throw new Error(`consume: ${JSON.stringify(outcome)}`);
  },
  'consume headers copy (harness)': async () => {
    sink += Object.keys(inboundHeaders(`h-${eventNumber++}`)).length;
  },
};
const eventNs = Object.fromEntries(Object.keys(eventSides).map((name) => [name, []]));
for (const name of Object.keys(eventSides)) await nsPerAsyncOp(eventSides[name]);
for (let round = 0; round < ROUNDS; round++) for (const name of Object.keys(eventSides)) eventNs[name].push(await nsPerAsyncOp(eventSides[name]));

console.log(
  JSON.stringify({
    document: path.relative(ROOT, document),
    events: { nsPerEvent: eventNs, operation: fixture.spec.operation },
    validators: { types: types.length, samples: samples.length, valid, disagreements, perSecond: rates, sink: verdicts > 0 },
    envelope: { nsPerEvent: envelopeNs, sink: sink > 0 },
  }),
);
