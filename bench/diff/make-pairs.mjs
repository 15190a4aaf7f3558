// Writes the document pairs the diff benchmark compares, into the folder given (default: a temp folder):
//   small-old.yaml / small-new.yaml  the streetlights 3.0 example, and a copy with two breaking changes
//   large-old.yaml / large-new.yaml  a 500-channel document (1,000 operations, 500 messages), and a copy
//                                    with changes spread over it
// Usage: node bench/diff/make-pairs.mjs [out-dir]   (prints the folder)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.argv[2] ? path.resolve(process.argv[2]) : mkdtempSync(path.join(os.tmpdir(), 'codegen-diff-bench-'));
mkdirSync(out, { recursive: true });

// Small pair: streetlights (Kafka) 3.0.
const small = readFileSync(path.join(root, 'fixtures/spec/3.0/streetlights-kafka-asyncapi.yml'), 'utf8');
writeFileSync(path.join(out, 'small-old.yaml'), small);
const smallNew = parse(small);
const lumens = smallNew.components.schemas.lightMeasuredPayload.properties.lumens;
lumens.minimum = 10; // narrowed: breaking for the receive operation
smallNew.components.schemas.turnOnOffPayload.properties.command.enum.push('blink'); // widened: breaking for the send operations
writeFileSync(path.join(out, 'small-new.yaml'), stringify(smallNew));

// Large pair: 500 channels, a send and a receive operation on each, one message per channel.
const CHANNELS = 500;
function large(version) {
  const doc = {
    asyncapi: '3.0.0',
    info: { title: 'Large shop', version: version === 'old' ? '1.0.0' : '1.1.0' },
    servers: { kafka: { host: 'kafka.example.com:9092', protocol: 'kafka' } },
    channels: {},
    operations: {},
    components: { messages: {}, schemas: {} },
  };
  for (let i = 0; i < CHANNELS; i++) {
    const name = `event${i}`;
    doc.channels[name] = {
      address: `shop.${name}.{region}`,
      parameters: { region: { enum: ['eu', 'us'] } },
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
      bindings: { kafka: { topic: `shop.${name}`, partitions: 3 } },
    };
    doc.operations[`send${i}`] = { action: 'send', channel: { $ref: `#/channels/${name}` } };
    doc.operations[`receive${i}`] = { action: 'receive', channel: { $ref: `#/channels/${name}` } };
    doc.components.messages[name] = { name: `com.example.${name}`, payload: { $ref: `#/components/schemas/Payload${i}` }, headers: { $ref: '#/components/schemas/Headers' } };
    const required = ['id', 'at', 'amount'];
    const properties = {
      id: { type: 'string', format: 'uuid' },
      at: { type: 'string', format: 'date-time' },
      amount: { type: 'number', minimum: 0 },
      currency: { type: 'string', enum: ['EUR', 'USD'] },
      lines: { type: 'array', items: { $ref: '#/components/schemas/Line' }, maxItems: 50 },
      note: { type: 'string', maxLength: 200 },
    };
    if (version === 'new' && i % 50 === 0) required.pop(); // amount optional: breaking for the send side
    if (version === 'new' && i % 70 === 1) properties.currency.enum.push('GBP');
    doc.components.schemas[`Payload${i}`] = { type: 'object', additionalProperties: false, required, properties };
  }
  doc.components.schemas.Line = { type: 'object', required: ['sku', 'quantity'], properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } } };
  doc.components.schemas.Headers = { type: 'object', properties: { traceparent: { type: 'string' } } };
  if (version === 'new') doc.components.schemas.Line.properties.quantity.maximum = 1000;
  return doc;
}
writeFileSync(path.join(out, 'large-old.yaml'), stringify(large('old')));
writeFileSync(path.join(out, 'large-new.yaml'), stringify(large('new')));
console.log(out);
