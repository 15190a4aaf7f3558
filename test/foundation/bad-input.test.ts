import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, freshDir, gitProject, runInProcess } from '../helpers/codegen.js';

const VALID = readFileSync(path.join(FIXTURES, 'orders/orders-3.0.yaml'), 'utf8');

interface Case {
  name: string;
  files: Record<string, string | Buffer>;
  /** Extra arguments; the document is `doc.yaml` unless the case says otherwise. */
  args?: (dir: string) => string[];
  code: number;
  message: RegExp;
  /** Expected `file:line:column (#pointer)` prefix, when the error has a place. */
  where?: RegExp;
}

const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 12 }, (_, i) => {
  const prev = i === 0 ? 'a' : `l${i - 1}`;
  return `l${i}: &l${i} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
})].join('\n');

const CASES: Case[] = [
  { name: 'missing file', files: {}, code: 2, message: /cannot read doc\.yaml: no such file/ },
  { name: 'empty file', files: { 'doc.yaml': '  \n\n' }, code: 1, message: /doc\.yaml is empty/, where: /doc\.yaml:1:1/ },
  { name: 'binary file', files: { 'doc.yaml': Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff]) }, code: 2, message: /binary file/ },
  { name: 'malformed YAML', files: { 'doc.yaml': 'asyncapi: 3.0.0\ninfo:\n  title: [unclosed\n  version: 1\n' }, code: 1, message: /malformed YAML/, where: /doc\.yaml:\d+:\d+/ },
  { name: 'YAML alias bomb', files: { 'doc.yaml': bomb }, code: 1, message: /aliases more than \d+ times/ },
  {
    name: 'invalid AsyncAPI (wrong type deep inside)',
    files: { 'doc.yaml': VALID.replace("    action: send\n", '    action: shout\n') },
    code: 1,
    message: /must be equal to one of the allowed values/,
    where: /doc\.yaml:\d+:\d+ \(#\/operations\/placeOrder\/action\)/,
  },
  { name: 'not AsyncAPI at all', files: { 'doc.yaml': 'openapi: 3.1.0\ninfo: {}\n' }, code: 1, message: /not an AsyncAPI document/ },
  {
    name: 'unresolvable $ref',
    files: { 'doc.yaml': VALID.replace("$ref: '#/components/schemas/OrderLine'", "$ref: '#/components/schemas/Missing'") },
    code: 1,
    message: /'#\/components\/schemas\/Missing' does not exist/,
    where: /doc\.yaml:\d+:\d+ \(#\/components\/schemas\/Order\/properties\/lines\/items\/\$ref\)/,
  },
  {
    name: '$ref to a file that does not exist',
    files: { 'doc.yaml': VALID.replace("$ref: '#/components/schemas/OrderLine'", "$ref: './nope.yaml'") },
    code: 1,
    message: /unresolvable \$ref "\.\/nope\.yaml"/,
  },
  {
    name: '$ref to a remote URL',
    files: { 'doc.yaml': VALID.replace("$ref: '#/components/schemas/OrderLine'", "$ref: 'http://127.0.0.1:1/line.yaml'") },
    code: 1,
    message: /refused remote \$ref "http:\/\/127\.0\.0\.1:1\/line\.yaml".*--allow-remote-refs/,
    where: /doc\.yaml:\d+:\d+/,
  },
  {
    name: '$ref outside the folder',
    files: { 'doc.yaml': VALID.replace("$ref: '#/components/schemas/OrderLine'", "$ref: '../outside.yaml'"), '../outside.yaml': 'type: object\n' },
    code: 1,
    message: /refused \$ref "\.\.\/outside\.yaml": it leaves the project root, the git work tree holding the document \(\.\); pass --allow-outside-refs/,
  },
  { name: 'unknown --target', files: { 'doc.yaml': VALID }, args: (dir) => ['generate', 'doc.yaml', '-t', 'mqtt', '-o', path.join(dir, 'out')], code: 2, message: /unknown target "mqtt"; choose from rabbitmq, kafka, nats/ },
  {
    name: 'output path that is a file',
    files: { 'doc.yaml': VALID, 'out': 'I am a file' },
    args: (dir) => ['generate', 'doc.yaml', '-t', 'kafka', '-o', path.join(dir, 'out')],
    code: 2,
    message: /is a file, not a folder/,
  },
  { name: 'unknown flag', files: { 'doc.yaml': VALID }, args: () => ['generate', 'doc.yaml', '-o', 'out', '--frobnicate'], code: 2, message: /unknown option/ },
];

describe('bad input', () => {
  it.each(CASES)('$name: exit $code, says what and where, writes nothing', async (c) => {
    const root = freshDir('bad');
    const dir = gitProject(path.join(root, 'project'));
    for (const [name, content] of Object.entries(c.files)) writeFileSync(path.join(dir, name), content);
    const args = c.args?.(dir) ?? ['generate', 'doc.yaml', '-t', 'kafka', '-o', path.join(dir, 'out')];
    const started = Date.now();
    const result = await runInProcess(args, dir);
    expect(result.code, result.stderr).toBe(c.code);
    expect(result.stderr).toMatch(c.message);
    if (c.where) expect(result.stderr).toMatch(c.where);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    if (c.name !== 'output path that is a file') expect(existsSync(path.join(dir, 'out'))).toBe(false);
    else expect(readFileSync(path.join(dir, 'out'), 'utf8')).toBe('I am a file');
    // The alias bomb in particular must be refused at once, not expanded.
    expect(Date.now() - started).toBeLessThan(30_000);
    if (args[0] === 'generate' && existsSync(path.join(dir, 'doc.yaml'))) {
      const validate = await runInProcess(['validate', 'doc.yaml', '--engine', 'fast'], dir);
      expect(validate.code).toBe(c.code === 2 && c.args ? 0 : c.code);
    }
  });

  it('refuses a $ref through a symlink that leaves the folder', async () => {
    const root = freshDir('symlink-ref');
    const dir = gitProject(path.join(root, 'project'));
    writeFileSync(path.join(root, 'secret.yaml'), 'type: string\n');
    symlinkSync(path.join(root, 'secret.yaml'), path.join(dir, 'line.yaml'));
    writeFileSync(path.join(dir, 'doc.yaml'), VALID.replace("$ref: '#/components/schemas/OrderLine'", "$ref: './line.yaml'"));
    const result = await runInProcess(['generate', 'doc.yaml', '-o', 'out'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/leaves the project root, the git work tree holding the document \(\.\) \(through a symlink\)/);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('loads a document split over several files and names each error by its own file', async () => {
    const ok = await runInProcess(['validate', path.join('fixtures', 'multi-file', 'asyncapi.yaml'), '--engine', 'fast']);
    expect(ok.code).toBe(0);
    const root = freshDir('split-error');
    const dir = path.join(root, 'project');
    mkdirSync(path.join(dir, 'schemas'), { recursive: true });
    writeFileSync(path.join(dir, 'doc.yaml'), VALID.replace("$ref: '#/components/schemas/OrderLine'", "$ref: './schemas/line.yaml'"));
    writeFileSync(path.join(dir, 'schemas', 'line.yaml'), 'type: object\nproperties:\n  sku:\n    type: 12\n');
    const result = await runInProcess(['validate', 'doc.yaml', '--engine', 'fast'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/schemas\/line\.yaml:4:\d+ \(#\/properties\/sku\/type\)/);
  });
});
