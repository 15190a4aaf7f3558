import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, freshDir, generateTo, runInProcess } from '../helpers/codegen.js';
import { EXAMPLE, SENSORS } from './support.js';

/** What the NATS target writes, read as text (no broker needed). */
describe('NATS target: generated code', () => {
  it('maps channel addresses to subjects and subject filters, and places the binding values', async () => {
    const example = await generateTo(EXAMPLE, ['nats']);
    const client = readFileSync(path.join(example, 'nats/client.ts'), 'utf8');
    expect(client).toContain("wildcard: 'orders.*.created'");
    expect(client).toContain("queue: 'order-service'");
    expect(client).toContain("durable: 'order-service'");
    expect(client).toContain("stream: 'ORDER_CREATED'");
    expect(client).toContain("servers: ['127.0.0.1:4222']");
    expect(client).toMatch(/requestAuthorizePayment\(\s*payload: types\.AuthorizePaymentPayload/);
    expect(client).toMatch(/onHandlePaymentAuthorization\(\s*handler: NatsResponder</);
    // Parameters are required where the channel has them.
    expect(client).toMatch(/options: NatsPublishOptions<types\.OrderHeaders> & \{ parameters: types\.\w+Parameters \}/);
    const index = readFileSync(path.join(example, 'index.ts'), 'utf8');
    expect(index).toContain("export * as nats from './nats/index.js';");
    const runtime = readdirSync(path.join(example, 'runtime/nats'))
      .map((file) => readFileSync(path.join(example, 'runtime/nats', file), 'utf8'))
      .join('\n');
    expect(runtime).toMatch(/from '@nats-io\/transport-node'/);
    expect(runtime).toMatch(/from '@nats-io\/jetstream'/);
    expect(runtime).not.toMatch(/from 'nats'/);

    const sensors = await generateTo(SENSORS, ['nats']);
    const sensorClient = readFileSync(path.join(sensors, 'nats/client.ts'), 'utf8');
    expect(sensorClient).toContain("wildcard: 'sensors.*.readings',\n  subjects: slashSubjects(true, false)");
    expect(sensorClient).toContain("wildcard: 'alerts.*.raised',\n  subjects: slashSubjects(false, false)");
    expect(sensorClient).toContain("wildcard: 'batches.*.closed',\n  subjects: dotSubjects");
    expect(sensorClient).toContain("delivery: 'core'");
  });

  it('escapes hostile binding values and names', async () => {
    const dir = freshDir('nats-hostile');
    const document = path.join(dir, 'hostile.yaml');
    writeFileSync(
      document,
      [
        'asyncapi: 3.0.0',
        "info: { title: 'Evil */ title', version: '1' }",
        'channels:',
        "  evil: { address: \"a.{id}.'quote'\", parameters: { id: {} }, messages: { m: { payload: { type: object } } } }",
        'operations:',
        '  close:',
        '    action: receive',
        "    channel: { $ref: '#/channels/evil' }",
        "    bindings: { nats: { queue: \"q'\\\\\\\"*/ x\" } }",
      ].join('\n'),
    );
    const out = await generateTo(document, ['nats']);
    const client = readFileSync(path.join(out, 'nats/client.ts'), 'utf8');
    expect(client).toContain(`wildcard: "a.*.'quote'"`);
    expect(client).toContain(`queue: 'q\\'\\\\"*/ x'`);
    expect(client).toContain("durable: 'q_x'");
    // In comments the title cannot close the comment; in code it is a string literal.
    expect(client).toContain('The NATS client of "Evil *\\/ title" 1.');
    expect(client).toContain("name: 'Evil */ title'");
    // `close` is the client's own method: the operation's method gets another name.
    expect(client).toMatch(/\n {2}onClose\(/);
    await compileStrict([out]);
  });

  it('refuses an x-delivery that is neither core nor jetstream, pointing at it', async () => {
    const dir = freshDir('nats-bad-delivery');
    const document = path.join(dir, 'bad.yaml');
    writeFileSync(
      document,
      [
        'asyncapi: 3.0.0',
        "info: { title: 'Bad', version: '1' }",
        'channels:',
        '  c: { address: a.b, messages: { m: { payload: { type: object } } } }',
        'operations:',
        '  receive:',
        '    action: receive',
        "    channel: { $ref: '#/channels/c' }",
        '    bindings: { nats: { x-delivery: sometimes } }',
      ].join('\n'),
    );
    const result = await runInProcess(['generate', document, '--target', 'nats', '--out', path.join(dir, 'out')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('x-delivery');
    expect(result.stderr).toContain('/operations/receive/bindings/nats/x-delivery');
  });
});
