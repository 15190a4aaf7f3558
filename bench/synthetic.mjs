// Writes a synthetic AsyncAPI 3.0 document with N channels (fixed seed, so every run is identical):
// each channel has a parameter, a payload of about 10 mixed properties (nested objects, enums,
// arrays, formats), a header set, and a send and a receive operation.
// Usage: node bench/synthetic.mjs <channels> <out.yaml>
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function syntheticDocument(channels, seed = 42) {
  let state = seed >>> 0;
  const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const lines = ['asyncapi: 3.0.0', 'info:', `  title: Synthetic ${channels}`, '  version: 1.0.0', 'channels:'];
  const operations = ['operations:'];
  const messages = ['components:', '  messages:'];
  const schemas = ['  schemas:'];
  for (let i = 0; i < channels; i++) {
    const name = `entity${i}`;
    lines.push(
      `  ${name}Changed:`,
      `    address: domain${i % 17}.${name}.{tenant}.changed`,
      '    parameters:',
      '      tenant:',
      '        description: Tenant id.',
      '    messages:',
      `      ${name}Changed:`,
      `        $ref: '#/components/messages/${name}Changed'`,
    );
    operations.push(
      `  publish${i}:`,
      '    action: send',
      `    channel: { $ref: '#/channels/${name}Changed' }`,
      `  consume${i}:`,
      '    action: receive',
      `    channel: { $ref: '#/channels/${name}Changed' }`,
    );
    messages.push(
      `    ${name}Changed:`,
      `      name: ${name}.changed`,
      '      headers:',
      '        type: object',
      '        properties:',
      '          x-request-id: { type: string }',
      `      payload: { $ref: '#/components/schemas/${name}' }`,
    );
    const status = ['active', 'inactive', 'pending', 'archived'].slice(0, 2 + Math.floor(random() * 3));
    schemas.push(
      `    ${name}:`,
      '      type: object',
      '      additionalProperties: false',
      '      required: [id, createdAt, status]',
      '      properties:',
      '        id: { type: string, format: uuid }',
      '        createdAt: { type: string, format: date-time }',
      `        status: { type: string, enum: [${status.join(', ')}] }`,
      `        count: { type: integer, minimum: 0, maximum: ${100 + Math.floor(random() * 1000)} }`,
      '        ratio: { type: number }',
      '        enabled: { type: boolean }',
      `        tags: { type: array, items: { type: string, maxLength: ${8 + Math.floor(random() * 30)} } }`,
      '        owner:',
      '          type: object',
      '          required: [name]',
      '          properties:',
      '            name: { type: string }',
      `            email: { type: string, format: ${pick(['email', 'hostname', 'uri'])} }`,
      '        location:',
      '          type: object',
      '          properties:',
      '            lat: { type: number, minimum: -90, maximum: 90 }',
      '            lon: { type: number, minimum: -180, maximum: 180 }',
      `        note: { type: [string, 'null'] }`,
    );
  }
  return [...lines, ...operations, ...messages, ...schemas, ''].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [count, out] = process.argv.slice(2);
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileSync(out, syntheticDocument(Number(count)));
  console.error(`wrote ${out} (${count} channels)`);
}
