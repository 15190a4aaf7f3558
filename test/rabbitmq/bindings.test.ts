import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, freshDir, importGenerated, runInProcess, uniqueName } from '../helpers/codegen.js';
import { rabbitmqctl, thingsDocument } from './support.js';

/** A one-channel document whose channel and operation carry the given amqp bindings. */
function documentWith(channelBinding: string, operationBinding = '{}'): string {
  const file = path.join(freshDir('rabbitmq-bindings'), 'asyncapi.yaml');
  writeFileSync(
    file,
    `asyncapi: 3.0.0
info: { title: Bindings, version: 1.0.0 }
channels:
  things:
    address: things.{kind}
    parameters:
      kind: {}
    messages:
      thing: { payload: { type: object } }
    bindings:
      amqp: ${channelBinding}
operations:
  sendThing:
    action: send
    channel: { $ref: '#/channels/things' }
    bindings:
      amqp: ${operationBinding}
`,
  );
  return file;
}

async function generate(file: string) {
  return runInProcess(['generate', file, '--target', 'rabbitmq', '--out', path.join(path.dirname(file), 'out')]);
}

describe('rabbitmq target: reading amqp bindings', () => {
  it('reports a binding field of the wrong type as a document error pointing at the field', async () => {
    const result = await generate(documentWith('{ is: routingKey, exchange: { name: x, type: topic, durable: "yes" } }'));
    expect(result.code).toBe(1);
    // The AsyncAPI binding schema or the target's own reading: either way the field is named.
    expect(result.stderr).toContain('#/channels/things/bindings/amqp/exchange/durable');
  });

  it('refuses an operation binding out of range (priority above 255)', async () => {
    const result = await generate(documentWith('{ is: routingKey, exchange: { name: things, type: topic } }', '{ priority: 300 }'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('#/operations/sendThing/bindings/amqp/priority');
    expect(result.stderr).toMatch(/"priority" must be an integer from 0 to 255/);
  });

  it('generates a documented topology from valid bindings', async () => {
    const file = documentWith('{ is: routingKey, exchange: { name: things, type: direct, durable: false, autoDelete: true } }', '{ deliveryMode: 1, cc: [audit], expiration: 1000 }');
    const result = await generate(file);
    expect(result.code, result.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    const client = readFileSync(path.join(path.dirname(file), 'out/rabbitmq/client.ts'), 'utf8');
    expect(client).toContain(`exchange: { name: 'things', type: 'direct', durable: false, autoDelete: true }`);
    expect(client).toContain(`routingKey: ['things.', { parameter: 'kind' }]`);
    expect(client).toContain(`properties: { expiration: 1000, cc: ['audit'], deliveryMode: 1 }`);
  });
});

describe('rabbitmq target: the virtual host of the bindings', () => {
  it('connects to the vhost the channel bindings name, declares its topology there, and carries events', async () => {
    const vhost = uniqueName('codegen-vhost');
    await rabbitmqctl('add_vhost', vhost);
    await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
    const file = path.join(freshDir('rabbitmq-vhost'), 'asyncapi.yaml');
    writeFileSync(
      file,
      thingsDocument(
        `{ is: routingKey, exchange: { name: things, type: topic, vhost: ${JSON.stringify(vhost)} } }`,
        `info: { title: Vhost, version: 1.0.0 }\nservers:\n  broker: { host: '127.0.0.1:5672', protocol: amqp }`,
      ),
    );
    const out = path.join(path.dirname(file), 'out');
    const generated = await runInProcess(['generate', file, '--target', 'rabbitmq', '--out', out]);
    expect(generated.code).toBe(0);
    expect(readFileSync(path.join(out, 'rabbitmq/client.ts'), 'utf8')).toContain(`amqp://127.0.0.1:5672/${encodeURIComponent(vhost)}`);
    await compileStrict([out], { emit: true });
    const { rabbitmq } = await importGenerated<{ rabbitmq: { createClient(options?: object): Promise<any> } }>(out);
    const client = await rabbitmq.createClient(); // no URL: the document's server, in the bindings' vhost
    try {
      const received: string[] = [];
      await client.onThing(async (payload: { id: string }) => void received.push(payload.id));
      await client.publishSendThing({ id: 'one' });
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(received).toEqual(['one']);
      const exchanges = JSON.parse(await rabbitmqctl('list_exchanges', '-p', vhost, 'name', '--formatter', 'json')) as Array<{ name: string }>;
      expect(exchanges.map((e) => e.name)).toContain('things');
    } finally {
      await client.close();
      await rabbitmqctl('delete_vhost', vhost);
    }
  }, 120_000);
});
