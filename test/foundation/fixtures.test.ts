import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, freshDir, generateTo, runInProcess } from '../helpers/codegen.js';
import { REJECTED_BY_PARSER, validFixtureDocuments } from '../helpers/fixtures.js';

const TARGETS = ['rabbitmq', 'kafka', 'nats'];

describe('every fixture document', () => {
  const documents = validFixtureDocuments();

  it('finds the public examples and the project fixtures', () => {
    expect(documents.length).toBeGreaterThanOrEqual(36);
    expect(documents).toContain('example/asyncapi.yaml');
    expect(documents).toContain('multi-file/asyncapi.yaml');
  });

  it('generates for every target, and all of it compiles under tsc --strict as one program', async () => {
    const outs: string[] = [];
    for (const document of documents) outs.push(await generateTo(path.join(FIXTURES, document), TARGETS));
    await compileStrict(outs);
  }, 600_000);

  it.each([...REJECTED_BY_PARSER])('refuses %s with the reason, a location and exit code 1, writing nothing', async (document) => {
    const out = path.join(freshDir('rejected'), 'out');
    const result = await runInProcess(['generate', path.join('fixtures', document), '--target', 'kafka', '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/adeo-kafka-request-reply-asyncapi\.yml:\d+:\d+ \(#\/[^)]*\)/);
    // Its Kafka key bindings break the 3.0 schema and its Avro payloads are remote refs (refused by default).
    expect(result.stderr).toMatch(/must match|refused remote \$ref/);
    expect(existsSync(out)).toBe(false);
  });
});
