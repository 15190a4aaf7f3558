import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/** A small document with an MQTT server, its binding, and an operation binding, written to a fresh folder. */
function documentWith(options: { qos?: unknown; address?: string }): string {
  const dir = freshDir('mqtt-doc');
  const text = `asyncapi: 3.0.0
info: { title: Lamps, version: 1.0.0 }
servers:
  broker:
    host: localhost:1883
    protocol: mqtt
    protocolVersion: 3.1.1
    bindings:
      mqtt:
        clientId: lamp-service
        cleanSession: false
        keepAlive: 30
        sessionExpiryInterval: 600
        lastWill: { topic: lamps/status, qos: 1, message: offline, retain: true }
channels:
  state:
    address: '${options.address ?? 'lamps/{lampId}/state'}'
    parameters: { lampId: {} }
    messages: { state: { payload: { type: object, properties: { on: { type: boolean } } } } }
operations:
  reportState:
    action: send
    channel: { $ref: '#/channels/state' }
    bindings: { mqtt: { qos: ${JSON.stringify(options.qos ?? 2)}, retain: true, messageExpiryInterval: 60 } }
`;
  writeFileSync(path.join(dir, 'asyncapi.yaml'), text);
  return dir;
}

describe('MQTT target: bindings', () => {
  it('takes the server binding (client id, sessions, keep-alive, last will), the protocol version and the operation binding', async () => {
    const dir = documentWith({});
    const out = await generateTo(path.join(dir, 'asyncapi.yaml'), ['mqtt'], dir);
    const client = readFileSync(path.join(out, 'mqtt/client.ts'), 'utf8');
    expect(client).toContain("servers: ['mqtt://localhost:1883']");
    expect(client).toContain("mqttVersion: '3.1.1'");
    expect(client).toContain("clientId: 'lamp-service'");
    expect(client).toContain('cleanSession: false');
    expect(client).toContain('sessionExpirySeconds: 600');
    expect(client).toContain('keepAliveSeconds: 30');
    expect(client).toContain("lastWill: { topic: 'lamps/status', payload: 'offline', qos: 1, retain: true }");
    expect(client).toMatch(/filter: 'lamps\/\+\/state',\s+topics: slashTopics,\s+qos: 2,\s+retain: true,\s+messageExpirySeconds: 60,/);
    await compileStrict([out]);
  }, 120_000);

  it.each([
    // The AsyncAPI schema of the mqtt binding refuses it first; the target checks it too.
    ['a qos that is not 0, 1 or 2', { qos: 3 }, /asyncapi\.yaml:24:25 \(#\/operations\/reportState\/bindings\/mqtt\/qos\)/],
    ['an address holding a wildcard', { address: 'lamps/#/{lampId}' }, /E_MQTT_ADDRESS/],
  ])('refuses %s, naming the place (exit 1, nothing written)', async (_name, options, message) => {
    const dir = documentWith(options);
    const result = await runInProcess(['generate', 'asyncapi.yaml', '-t', 'mqtt', '-o', 'out'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
