import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir, runInProcess } from '../helpers/codegen.js';

/**
 * `$ref`s under keywords JSON Schema does not define, or inside values: the shapes real documents
 * have (issue: "no internal error, whatever a `$ref` is placed under"). Every keyword position is
 * covered by the hostile generator suites (test/hostile/ref-placement.ts); these are the named cases.
 */

function document(schemas: string): string {
  return `asyncapi: 3.0.0
info: { title: Holds, version: 1.0.0 }
channels:
  holds:
    address: holds
    messages:
      hold: { payload: { $ref: '#/components/schemas/HoldData' } }
operations:
  sendHold: { action: send, channel: { $ref: '#/channels/holds' } }
components:
  schemas:
${schemas}`;
}

async function generate(text: string) {
  const dir = freshDir('schema-refs');
  writeFileSync(path.join(dir, 'asyncapi.yaml'), text);
  const result = await runInProcess(['generate', 'asyncapi.yaml', '-t', 'kafka', '-o', 'out'], dir);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  return { ...result, dir };
}

describe('$refs where JSON Schema does not look', () => {
  it('a $ref under a nested `schema:` key and one written as if it were a property: generated, each reported with its line', async () => {
    const result = await generate(
      document(`    ServiceView: { type: object, properties: { name: { type: string } } }
    HoldData:
      type: object
      schemeId: { $ref: '#/components/schemas/ServiceView' }
      properties:
        serviceView: { type: object, schema: { $ref: '#/components/schemas/ServiceView' } }
`),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/asyncapi\.yaml:15:7 \(#\/components\/schemas\/HoldData\/schemeId\): warning W_SCHEMA_UNKNOWN_KEYWORD: "schemeId" is not a JSON Schema keyword: .*\(if "schemeId" is a property, put it under "properties"/);
    expect(result.stderr).toMatch(/asyncapi\.yaml:17:\d+ \(#\/components\/schemas\/HoldData\/properties\/serviceView\/schema\): warning W_SCHEMA_UNKNOWN_KEYWORD/);
    const types = readFileSync(path.join(result.dir, 'out', 'types.ts'), 'utf8');
    expect(types).toMatch(/export interface HoldData \{\n\s+serviceView\?: \{/);
    expect(types).not.toMatch(/schemeId/);
  });

  it('a $ref inside a value is replaced by the value it names, as @asyncapi/parser does', async () => {
    const result = await generate(
      document(`    Kinds: { type: string, enum: [hold, release] }
    HoldData:
      type: object
      properties:
        kind: { type: string, enum: { $ref: '#/components/schemas/Kinds/enum' } }
`),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(path.join(result.dir, 'out', 'types.ts'), 'utf8')).toMatch(/kind\?: 'hold' \| 'release';/);
  });

  it('a value that would be infinite: an annotation is left out with a warning, an assertion refuses the document', async () => {
    const schema = (keyword: string) => `    HoldData:
      type: object
      properties:
        self: { ${keyword}: { $ref: '#/components/schemas/HoldData' } }
`;
    const annotation = await generate(document(schema('default')));
    expect(annotation.code, annotation.stderr).toBe(0);
    expect(annotation.stderr).toMatch(/\(#\/components\/schemas\/HoldData\/properties\/self\/default\): warning W_VALUE_REF_CYCLE: "default" left out/);
    const assertion = await generate(document(schema('const')));
    expect(assertion.code).toBe(1);
    expect(assertion.stderr).toMatch(/asyncapi\.yaml:\d+:\d+ \(#\/components\/schemas\/HoldData\/properties\/self\/const\): error E_REF_CYCLE: /);
  });
});
