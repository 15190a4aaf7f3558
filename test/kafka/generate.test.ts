// What the kafka target generates from the document's bindings (no broker needed), and that it
// compiles under tsc --strict with declarations and noUnusedLocals, hostile names included.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateFiles } from '../../src/pipeline/generate.js';
import { FIXTURES, freshDir, generateTo, ROOT } from '../helpers/codegen.js';

const execFileAsync = promisify(execFile);

async function kafkaClientSource(document: string): Promise<string> {
  const { files } = await generateFiles({ document: path.join(FIXTURES, document), targets: ['kafka'] });
  const client = files.find((f) => f.path === 'kafka/client.ts');
  if (!client) throw new Error(`no kafka/client.ts for ${document}`);
  return client.content;
}

describe('kafka target: bindings in the generated client', () => {
  let example: string;
  let bindings: string;
  let streetlights: string;
  beforeAll(async () => {
    [example, bindings, streetlights] = await Promise.all([
      kafkaClientSource('example/asyncapi.yaml'),
      kafkaClientSource('kafka/bindings.yaml'),
      kafkaClientSource('spec/2.6/streetlights-kafka.yml'),
    ]);
  });

  it('takes the topic, partitions and replicas from the channel binding', () => {
    expect(example).toMatch(/orderCreated: \{\s+name: 'orderCreated',\s+topic: 'orders\.created',\s+fromAddress: false,\s+hasParameters: true,\s+partitions: 3,\s+replicas: 1,/);
    expect(example).toMatch(/paymentAuthorization: \{\s+name: 'paymentAuthorization',\s+topic: 'payments\.authorize',/);
  });

  it('builds the topic from the address when the binding names none, and enumerates enum-only parameters', () => {
    expect(bindings).toMatch(/readings: \{\s+name: 'readings',\s+topic: undefined,\s+fromAddress: true,/);
    expect(bindings).toContain("enumeratedTopics: ['sensors.north.readings', 'sensors.south.readings']");
    expect(bindings).toMatch(/commands: \{[^}]*enumeratedTopics: \[\]/);
  });

  it('passes the topic configuration on, without Confluent-only keys', () => {
    expect(bindings).toMatch(/\{ name: 'cleanup\.policy', value: 'delete' \},\s+\{ name: 'retention\.ms', value: '604800000' \}/);
    expect(bindings).not.toContain('confluent.');
  });

  it('types keys from the message binding: an enum, an integer, or free when undeclared', () => {
    expect(bindings).toMatch(/export type PublishReadingOptions = KafkaPublishOptions<Record<string, string>, 's1' \| 's2' \| 's3'> & \{\s+key: 's1' \| 's2' \| 's3';/);
    expect(bindings).toContain('export type PublishAlertOptions = KafkaPublishOptions<Record<string, string>, number> & { key: number };');
    expect(bindings).toMatch(/export type OnAlertHandler = KafkaHandler<\s+types\.AlertPayload,\s+Record<string, string>,\s+number,/);
    expect(example).toMatch(/export type PublishOrderLifecycleOptions = KafkaPublishOptions<Record<string, string>, string \| Buffer> &/);
  });

  it('takes consumer group and client id from the operation bindings', () => {
    expect(example).toMatch(/onOrderCreated: operation\(\{[^)]*groupId: 'order-service'/);
    expect(bindings).toMatch(/onReading: operation\(\{[^)]*groupId: 'sensor-readers'/);
    expect(streetlights).toContain("clientId: options.clientId ?? 'my-app-id'");
    expect(example).toContain("clientId: options.clientId ?? 'orderProcessing'");
  });

  it('finds the reply topic header from the reply address location, and the reply address template', () => {
    expect(example).toMatch(/authorizePayment: reply<types\.PaymentAuthorizedPayload>\(\{[^}]*replyToHeader: 'replyTo',\s+topic: undefined,\s+address: undefined,/);
    expect(bindings).toMatch(/sendCommand: reply<types\.CommandResultPayload>\(\{[^}]*replyToHeader: 'x-codegen-reply-to',\s+topic: undefined,\s+address: 'devices\.\{deviceId\}\.results',/);
  });

  it('names the client methods like every other target', () => {
    for (const method of ['publishOrderCreated(', 'onOrderCreated(', 'publishOrderLifecycle(', 'onOrderLifecycle(', 'requestAuthorizePayment(', 'onHandlePaymentAuthorization(']) {
      expect(example).toContain(method);
    }
    // 2.x: `publish` is what the application receives, `subscribe` what it sends.
    expect(streetlights).toContain('onReceiveLightMeasurement(');
    expect(streetlights).toContain('publishTurnOn(');
    expect(streetlights).toMatch(/smartylightingStreetlights10EventStreetlightIdLightingMeasured: \{[^}]*topic: undefined,\s+fromAddress: true,/);
  });

  it('takes the default brokers from the kafka servers of the document', () => {
    expect(example).toContain("DEFAULT_BROKERS: readonly string[] = ['127.0.0.1:9092']");
    expect(bindings).toContain("DEFAULT_BROKERS: readonly string[] = ['127.0.0.1:9092', 'kafka.example.com:9093']");
  });

  it('keeps hostile names inert and compiles everything with declarations and noUnusedLocals', async () => {
    const documents = ['example/asyncapi.yaml', 'kafka/bindings.yaml', 'kafka/hostile.yaml', 'spec/2.6/streetlights-kafka.yml', 'spec/3.0/streetlights-kafka-asyncapi.yml'];
    const outs = await Promise.all(documents.map((d) => generateTo(path.join(FIXTURES, d), ['kafka'])));
    const hostile = await kafkaClientSource('kafka/hostile.yaml');
    expect(hostile).toContain("groupId: 'group \"*/\\n'");
    expect(hostile).toContain("replyToHeader: 'reply/to \"*/'");
    expect(hostile).toContain("values: ['k\"1', '*/', '${y}']");
    expect(hostile).toContain('/** The Kafka client of Hostile *\\/ names');
    const dir = freshDir('kafka-tsc');
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: false,
        emitDeclarationOnly: true,
        declaration: true,
        outDir: path.join(dir, 'types'),
        noUnusedLocals: true,
        noImplicitOverride: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        skipLibCheck: true,
      },
      include: outs.map((o) => path.join(o, '**/*.ts')),
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
    try {
      await execFileAsync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`tsc failed:\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 8000));
    }
  }, 120_000);
});
