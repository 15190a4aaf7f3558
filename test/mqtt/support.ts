import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { compileStrict, FIXTURES, generateTo, importGenerated, uniqueName } from '../helpers/codegen.js';

export const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const EXAMPLE = path.join(FIXTURES, 'example/asyncapi.yaml');
export const STREETLIGHTS = path.join(FIXTURES, 'spec/3.0/streetlights-mqtt-asyncapi.yml');

/** The generated root module, seen loosely: tests reach the MQTT client through `mqtt.createClient`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Generated = { mqtt: { createClient(options?: Record<string, unknown>): Promise<any>; [name: string]: unknown } } & Record<string, any>;

/** Generates documents for the MQTT target, compiles them together with `tsc --strict`, and imports each root index. */
export async function buildGenerated(documents: string[]): Promise<{ outs: string[]; modules: Generated[] }> {
  const outs: string[] = [];
  for (const document of documents) outs.push(await generateTo(document, ['mqtt']));
  await compileStrict(outs, { emit: true });
  const modules: Generated[] = [];
  for (const out of outs) modules.push(await importGenerated<Generated>(out, 'index.js'));
  return { outs, modules };
}

/** A topic prefix unique to this run (`t-xyz/`), so runs never see each other's events. */
export function uniquePrefix(label: string): string {
  return `${uniqueName(label).replace(/[^a-zA-Z0-9-]/g, '-')}/`;
}

/** A plain MQTT.js connection for what tests do behind the generated client's back. */
export function rawConnection(url = MQTT_URL, protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
  return connectAsync(url, { protocolVersion, clientId: `codegen-test-${randomUUID()}`, reconnectPeriod: 200 });
}

/** Subscribes on a raw connection and collects what arrives (packets, properties included). */
export async function collect(raw: MqttClient, filter: string): Promise<IPublishPacket[]> {
  const packets: IPublishPacket[] = [];
  const matches = new RegExp(`^${filter.replace(/[.*?^${}()|[\]\\]/g, '\\$&').replace(/\+/g, '[^/]+').replace(/#$/, '.*')}$`);
  raw.on('message', (topic, _payload, packet) => {
    if (matches.test(topic)) packets.push(packet);
  });
  await raw.subscribeAsync(filter, { qos: 1 });
  return packets;
}

// The NATS tests' helpers (waits, an example order, a logger that keeps its lines) serve here unchanged.
export { delay, memoryLogger, order, waitFor } from '../nats/support.js';
