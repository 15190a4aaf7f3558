import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/codegen.js';

// The same generator as the benchmarks' synthetic documents (a fixed seed: every run writes the same file).
const { syntheticDocument } = (await import(pathToFileURL(path.join(ROOT, 'bench/synthetic.mjs')).href)) as { syntheticDocument(channels: number): string };

/**
 * Generators of resource-exhaustion inputs ("bombs"). Each writes its files into `dir` and returns the
 * document to pass to `codegen generate`. Nothing large is committed: everything is generated.
 */

export interface Bomb {
  name: string;
  /** What must happen: a refusal (exit 1 with this message) or a generation (exit 0). */
  expect: { code: 0 } | { code: 1; message: RegExp };
  /** Writes the input; returns the document path (relative to `dir`). */
  write(dir: string): string;
}

/** A minimal valid AsyncAPI 3.0 document around one payload schema, as JSON text (`payload` is JSON text too). */
function withPayload(payload: string, extra = ''): string {
  return (
    '{"asyncapi":"3.0.0","info":{"title":"bomb","version":"1"' +
    extra +
    '},"channels":{"c":{"address":"c","messages":{"m":{"payload":' +
    payload +
    '}}}},"operations":{"send":{"action":"send","channel":{"$ref":"#/channels/c"}}}}'
  );
}

function nestedObjects(levels: number): string {
  return '{"type":"object","properties":{"a":'.repeat(levels) + '{"type":"string"}' + '}}'.repeat(levels);
}

export const BOMBS: Bomb[] = [
  {
    name: 'YAML alias bomb ("billion laughs": 10^12 strings from 1 KB)',
    expect: { code: 1, message: /E_YAML_ALIAS_BOMB: refused: the document expands YAML aliases more than 1000 times/ },
    write(dir) {
      const lines = ['asyncapi: 3.0.0', 'info: {title: bomb, version: "1"}', 'x-lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i <= 12; i++) lines.push(`x-lol${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(',')}]`);
      lines.push('channels: {}', 'operations: {}');
      writeFileSync(path.join(dir, 'alias-bomb.yaml'), lines.join('\n') + '\n');
      return 'alias-bomb.yaml';
    },
  },
  {
    name: 'YAML alias fan-out (a 9,000-item list aliased 999 times: 9 million values, under the alias count)',
    expect: { code: 1, message: /E_REF_EXPANSION: refused: with its \$refs \(and YAML aliases\) expanded, the document would hold more than 2000000 values/ },
    write(dir) {
      const list = Array.from({ length: 9_000 }, (_, i) => i).join(',');
      const text = ['asyncapi: 3.0.0', 'info: {title: bomb, version: "1"}', `x-list: &list [${list}]`, `x-copies: [${Array(999).fill('*list').join(',')}]`, 'channels: {}', 'operations: {}'];
      writeFileSync(path.join(dir, 'alias-fanout.yaml'), text.join('\n') + '\n');
      return 'alias-fanout.yaml';
    },
  },
  {
    name: 'JSON nested 10,000 levels deep',
    expect: { code: 1, message: /E_TOO_DEEP: refused: the document nests mappings and lists more than 512 levels deep/ },
    write(dir) {
      writeFileSync(path.join(dir, 'deep.json'), withPayload(nestedObjects(10_000)));
      return 'deep.json';
    },
  },
  {
    name: 'YAML nested 10,000 levels deep',
    expect: { code: 1, message: /E_TOO_DEEP: refused: the document nests mappings and lists more than 512 levels deep/ },
    write(dir) {
      const flow = '{type: object, properties: {a: '.repeat(10_000) + '{type: string}' + '}}'.repeat(10_000);
      const text = ['asyncapi: 3.0.0', 'info: {title: bomb, version: "1"}', 'channels:', '  c:', '    address: c', '    messages:', '      m:', `        payload: ${flow}`, 'operations:', '  send: {action: send, channel: {$ref: "#/channels/c"}}'];
      writeFileSync(path.join(dir, 'deep.yaml'), text.join('\n') + '\n');
      return 'deep.yaml';
    },
  },
  {
    name: 'a schema nested 200 levels deep (below the nesting limit, above the schema limit)',
    expect: { code: 1, message: /E_SCHEMA_TOO_DEEP: refused: a schema nests more than 128 levels deep/ },
    write(dir) {
      writeFileSync(path.join(dir, 'deep-schema.json'), withPayload(nestedObjects(200)));
      return 'deep-schema.json';
    },
  },
  {
    name: 'a schema nested 120 levels deep (handled)',
    expect: { code: 0 },
    write(dir) {
      writeFileSync(path.join(dir, 'deep-schema-120.json'), withPayload(nestedObjects(120)));
      return 'deep-schema-120.json';
    },
  },
  {
    name: 'a schema with 100,000 properties',
    expect: { code: 1, message: /E_TOO_WIDE: refused: a mapping or list has 100000 entries, over the 10000 limit/ },
    write(dir) {
      const properties = Array.from({ length: 100_000 }, (_, i) => `"p${i}":{"type":"string"}`).join(',');
      writeFileSync(path.join(dir, 'wide.json'), withPayload(`{"type":"object","properties":{${properties}}}`));
      return 'wide.json';
    },
  },
  {
    name: 'a schema with 10,000 properties (handled)',
    expect: { code: 0 },
    write(dir) {
      const properties = Array.from({ length: 10_000 }, (_, i) => `"p${i}":{"type":"string"}`).join(',');
      writeFileSync(path.join(dir, 'wide-10000.json'), withPayload(`{"type":"object","properties":{${properties}}}`));
      return 'wide-10000.json';
    },
  },
  {
    name: 'a 100 MB document',
    expect: { code: 1, message: /E_TOO_LARGE: refused: big\.json is 104857\d+ bytes, over the 16777216-byte limit/ },
    write(dir) {
      // Written in pieces: the test process never holds 100 MB either.
      const file = path.join(dir, 'big.json');
      const fd = openSync(file, 'w');
      const head = withPayload('{"type":"string"}', ',"description":"');
      const cut = head.indexOf(',"description":"') + ',"description":"'.length;
      writeSync(fd, head.slice(0, cut));
      const chunk = 'x'.repeat(1024 * 1024);
      for (let i = 0; i < 100; i++) writeSync(fd, chunk);
      writeSync(fd, '"' + head.slice(cut));
      closeSync(fd);
      return 'big.json';
    },
  },
  {
    name: 'a 15 MB description (under the size limit: handled)',
    expect: { code: 0 },
    write(dir) {
      const text = withPayload('{"type":"string"}').replace('"version":"1"', `"version":"1","description":"${'lorem ipsum '.repeat(1_310_720)}"`);
      writeFileSync(path.join(dir, 'long-text.json'), text);
      return 'long-text.json';
    },
  },
  {
    name: 'three files of 14 MB each (each under the file limit, over the 32 MiB total)',
    expect: { code: 1, message: /E_TOO_LARGE: refused: the document and the files it references exceed 33554432 bytes together/ },
    write(dir) {
      const filler = `"${'x'.repeat(14 * 1024 * 1024)}"`;
      for (const part of ['a', 'b', 'c']) writeFileSync(path.join(dir, `part-${part}.json`), `{"type":"string","description":${filler}}`);
      const text = withPayload('{"type":"object","properties":{"a":{"$ref":"./part-a.json"},"b":{"$ref":"./part-b.json"},"c":{"$ref":"./part-c.json"}}}');
      writeFileSync(path.join(dir, 'parts.json'), text);
      return 'parts.json';
    },
  },
  {
    name: '$ref expansion bomb (30 schemas, each referring twice to the next: 2^30 values from 3 KB)',
    expect: { code: 1, message: /E_REF_EXPANSION: refused: with its \$refs \(and YAML aliases\) expanded, the document would hold more than 2000000 values/ },
    write(dir) {
      const schemas = Array.from({ length: 30 }, (_, i) => `"S${i}":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/S${i + 1}"},"b":{"$ref":"#/components/schemas/S${i + 1}"}}}`);
      schemas.push('"S30":{"type":"string"}');
      const text = withPayload('{"$ref":"#/components/schemas/S0"}').replace(/}$/, `,"components":{"schemas":{${schemas.join(',')}}}}`);
      writeFileSync(path.join(dir, 'ref-bomb.json'), text);
      return 'ref-bomb.json';
    },
  },
  {
    name: 'a chain of 5,000 $refs (each schema refers to the next)',
    expect: { code: 1, message: /E_TOO_DEEP: refused: with its \$refs expanded, the document nests more than 512 levels deep/ },
    write(dir) {
      const schemas = Array.from({ length: 5000 }, (_, i) => `"S${i}":{"type":"object","properties":{"next":{"$ref":"#/components/schemas/S${i + 1}"}}}`);
      schemas.push('"S5000":{"type":"string"}');
      const text = withPayload('{"$ref":"#/components/schemas/S0"}').replace(/}$/, `,"components":{"schemas":{${schemas.join(',')}}}}`);
      writeFileSync(path.join(dir, 'ref-chain.json'), text);
      return 'ref-chain.json';
    },
  },
  {
    name: 'a $ref cycle through three files (a → b → c → a, no schema in it)',
    expect: { code: 1, message: /\$ref|reference/i },
    write(dir) {
      writeFileSync(path.join(dir, 'cycle-b.yaml'), 'X:\n  $ref: "./cycle-c.yaml#/Y"\n');
      writeFileSync(path.join(dir, 'cycle-c.yaml'), 'Y:\n  $ref: "./cycle.json#/components/schemas/Z"\n');
      const text = withPayload('{"$ref":"#/components/schemas/Z"}').replace(/}$/, ',"components":{"schemas":{"Z":{"$ref":"./cycle-b.yaml#/X"}}}}');
      writeFileSync(path.join(dir, 'cycle.json'), text);
      return 'cycle.json';
    },
  },
  {
    name: 'a recursive schema through three files (a tree: legitimate, handled)',
    expect: { code: 0 },
    write(dir) {
      writeFileSync(path.join(dir, 'tree-b.yaml'), 'Branch:\n  type: object\n  properties:\n    leaves:\n      type: array\n      items:\n        $ref: "./tree-c.yaml#/Leaf"\n');
      writeFileSync(path.join(dir, 'tree-c.yaml'), 'Leaf:\n  type: object\n  properties:\n    children:\n      $ref: "./tree.json#/components/schemas/Node"\n');
      const text = withPayload('{"$ref":"#/components/schemas/Node"}').replace(/}$/, ',"components":{"schemas":{"Node":{"type":"object","properties":{"branch":{"$ref":"./tree-b.yaml#/Branch"}}}}}}');
      writeFileSync(path.join(dir, 'tree.json'), text);
      return 'tree.json';
    },
  },
  {
    name: '5,002 operations (the 2,501-channel synthetic document)',
    expect: { code: 1, message: /E_TOO_MANY: refused: the document has 5002 operations, over the limit of 5000/ },
    write(dir) {
      writeFileSync(path.join(dir, 'synthetic-2501.yaml'), syntheticDocument(2501));
      return 'synthetic-2501.yaml';
    },
  },
];

export function bombDir(root: string, name: string): string {
  const dir = path.join(root, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60));
  mkdirSync(dir, { recursive: true });
  return dir;
}
