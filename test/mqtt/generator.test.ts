import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo, runInProcess, freshDir } from '../helpers/codegen.js';

const EXAMPLE = path.join(FIXTURES, 'example/asyncapi.yaml');
const STREETLIGHTS = path.join(FIXTURES, 'spec/3.0/streetlights-mqtt-asyncapi.yml');

describe('MQTT target: generation', () => {
  it('writes a typed client for the example and Streetlights that compiles under tsc --strict', async () => {
    const example = await generateTo(EXAMPLE, ['mqtt']);
    const streetlights = await generateTo(STREETLIGHTS, ['mqtt']);
    const client = readFileSync(path.join(example, 'mqtt/client.ts'), 'utf8');
    // Dot addresses become levels: parameters as `+` in the filter.
    expect(client).toContain("filter: 'orders/+/created'");
    expect(client).toContain('topics: dotTopics');
    const lights = readFileSync(path.join(streetlights, 'mqtt/client.ts'), 'utf8');
    expect(lights).toContain("filter: 'smartylighting/streetlights/1/0/event/+/lighting/measured'");
    // The operation trait's mqtt binding: qos 1.
    expect(lights).toMatch(/qos: 1,/);
    expect(lights).toContain('onReceiveLightMeasurement(');
    await compileStrict([example, streetlights]);
  }, 120_000);
});
