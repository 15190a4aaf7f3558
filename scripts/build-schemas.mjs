// Precompiles the AsyncAPI JSON Schemas (from @asyncapi/specs, the parser's own source) into ajv
// standalone validators at build time, so `codegen generate` checks a document's structure
// without compiling a 1 MB schema at run time. The schema is prepared exactly as @asyncapi/parser
// prepares it for its `asyncapi-document-resolved` rule.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';

const require = createRequire(import.meta.url);
const specsDir = path.dirname(require.resolve('@asyncapi/specs/package.json'));
const outDir = path.resolve(process.argv[2] ?? 'dist/asyncapi-schemas');
const versions = ['2.0.0', '2.1.0', '2.2.0', '2.3.0', '2.4.0', '2.5.0', '2.6.0', '3.0.0', '3.1.0'];
mkdirSync(outDir, { recursive: true });

function prepare(version) {
  const schema = JSON.parse(readFileSync(path.join(specsDir, 'schemas', `${version}.json`), 'utf8'));
  delete schema.definitions['http://json-schema.org/draft-07/schema'];
  delete schema.definitions['http://json-schema.org/draft-04/schema'];
  const reference = schema.definitions[`http://asyncapi.com/definitions/${version}/ReferenceObject.json`];
  if (reference?.format === 'uri-reference') delete reference.format;
  if (version.startsWith('3.')) {
    const def = (name) => schema.definitions[`http://asyncapi.com/definitions/${version}/${name}.json`];
    const ref = (name) => `http://asyncapi.com/definitions/${version}/${name}.json`;
    if (def('channel')?.properties?.servers?.items) def('channel').properties.servers.items.$ref = ref('server');
    if (def('operation')?.properties?.channel) def('operation').properties.channel.$ref = ref('channel');
    if (def('operation')?.properties?.messages?.items) def('operation').properties.messages.items.$ref = ref('messageObject');
    if (def('operationReply')?.properties?.channel) def('operationReply').properties.channel.$ref = ref('channel');
    if (def('operationReply')?.properties?.messages?.items) def('operationReply').properties.messages.items.$ref = ref('messageObject');
  }
  return schema;
}

const started = Date.now();
for (const version of versions) {
  const ajv = new Ajv({ code: { source: true }, allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  const validate = ajv.compile(prepare(version));
  writeFileSync(path.join(outDir, `${version}.cjs`), standaloneCode(ajv, validate));
}
console.error(`precompiled ${versions.length} AsyncAPI schemas in ${Date.now() - started} ms`);
