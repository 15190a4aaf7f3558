import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { CodegenError } from '../../src/errors.js';
import { ROOT } from '../helpers/codegen.js';
import { cli, outsideProject, project } from './support.js';

const entry = { document: 'asyncapi.yaml', targets: ['kafka'], out: 'out' };
const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
const yaml = 'documents:\n  - document: asyncapi.yaml\n    targets: [kafka]\n    out: out\n';
const esm = `export default { documents: [${JSON.stringify(entry)}] };\n`;
const cjs = `module.exports = { documents: [${JSON.stringify(entry)}] };\n`;
const ts = `import { defineConfig, type CodegenConfig } from 'asyncapi-codegen-ts';
const targets: CodegenConfig['documents'][number]['targets'] = ['kafka'];
export default defineConfig({ documents: [{ document: 'asyncapi.yaml', targets, out: 'out' }] });
`;

const outside: string[] = [];
afterAll(() => {
  for (const dir of outside) rmSync(dir, { recursive: true, force: true });
});

async function load(dir: string, explicit?: string) {
  return loadConfig({ cwd: dir, explicit, stopAt: dir });
}

async function configError(dir: string, explicit?: string): Promise<CodegenError> {
  try {
    await load(dir, explicit);
  } catch (error) {
    if (error instanceof CodegenError) return error;
    throw error;
  }
  throw new Error('expected a config error');
}

describe('config discovery', () => {
  const forms: Array<[string, Record<string, string>]> = [
    ['codegen.config.ts', { 'codegen.config.ts': ts }],
    ['codegen.config.mjs', { 'codegen.config.mjs': esm }],
    ['codegen.config.js (ESM package)', { 'codegen.config.js': esm, 'package.json': json({ type: 'module' }) }],
    ['codegen.config.js (CommonJS package)', { 'codegen.config.js': cjs, 'package.json': json({ name: 'x' }) }],
    ['codegen.config.cjs', { 'codegen.config.cjs': cjs }],
    ['codegen.config.json', { 'codegen.config.json': json({ documents: [entry] }) }],
    ['codegen.config.yaml', { 'codegen.config.yaml': yaml }],
    ['codegen.config.yml', { 'codegen.config.yml': yaml }],
    ['.codegenrc (YAML)', { '.codegenrc': yaml }],
    ['.codegenrc (JSON)', { '.codegenrc': json({ documents: [entry] }) }],
    ['.codegenrc.json', { '.codegenrc.json': json({ documents: [entry] }) }],
    ['.codegenrc.yaml', { '.codegenrc.yaml': yaml }],
    ['.codegenrc.yml', { '.codegenrc.yml': yaml }],
    ['package.json "codegen" key', { 'package.json': json({ name: 'x', codegen: { documents: [entry] } }) }],
  ];
  for (const [name, files] of forms) {
    it(`finds ${name}`, async () => {
      const dir = project('config-form', files);
      const { config, warnings } = await load(dir);
      const expectedFile = name.split(' ')[0]!.replace(/"/g, '');
      expect(path.basename(config.file)).toBe(expectedFile);
      expect(warnings).toEqual([]);
      expect(config.entries).toHaveLength(1);
      expect(config.entries[0]).toMatchObject({ document: path.join(dir, 'asyncapi.yaml'), out: path.join(dir, 'out'), targets: ['kafka'], role: 'application', validation: true });
      // Loading a JS/TS config leaves no temporary file behind.
      expect(readdirSync(dir).filter((f) => f.includes('.codegen-tmp') || /\.\d+-[0-9a-f]+\.mjs$/.test(f))).toEqual([]);
    });
  }

  it('takes precedence in the documented order and warns about the shadowed files', async () => {
    const dir = project('config-precedence', {
      'codegen.config.json': json({ documents: [{ ...entry, out: 'from-json' }] }),
      '.codegenrc.yaml': 'documents:\n  - { document: asyncapi.yaml, out: from-rc }\n',
      'package.json': json({ codegen: { documents: [{ ...entry, out: 'from-package' }] } }),
    });
    let loaded = await load(dir);
    expect(path.basename(loaded.config.file)).toBe('codegen.config.json');
    expect(loaded.warnings).toEqual([
      '.codegenrc.yaml is ignored: codegen.config.json takes precedence (keep one config file per folder)',
      'package.json is ignored: codegen.config.json takes precedence (keep one config file per folder)',
    ]);
    rmSync(path.join(dir, 'codegen.config.json'));
    loaded = await load(dir);
    expect(path.basename(loaded.config.file)).toBe('.codegenrc.yaml');
    rmSync(path.join(dir, '.codegenrc.yaml'));
    loaded = await load(dir);
    expect(loaded.config.entries[0]!.out).toBe(path.join(dir, 'from-package'));
  });

  it('prefers the TypeScript config over the others in its folder', async () => {
    const dir = project('config-ts-first', { 'codegen.config.ts': ts, 'codegen.config.mjs': esm, 'codegen.config.yaml': yaml });
    const { config, warnings } = await load(dir);
    expect(path.basename(config.file)).toBe('codegen.config.ts');
    expect(warnings).toHaveLength(2);
  });

  it('ignores a package.json without a "codegen" key and searches upwards from a subfolder', async () => {
    const dir = project('config-upwards', { 'codegen.config.yaml': yaml, 'packages/app/package.json': json({ name: 'app' }) });
    const { config } = await loadConfig({ cwd: path.join(dir, 'packages/app'), stopAt: dir });
    expect(config.file).toBe(path.join(dir, 'codegen.config.yaml'));
    // Paths stay relative to the config file, wherever the command runs.
    expect(config.entries[0]!.document).toBe(path.join(dir, 'asyncapi.yaml'));
  });

  it('uses --config over anything found, and resolves paths from that file', async () => {
    const dir = project('config-explicit', { 'codegen.config.yaml': yaml, 'configs/ci.json': json({ documents: [{ document: '../asyncapi.yaml', out: '../ci-out' }] }) });
    const { config } = await load(dir, 'configs/ci.json');
    expect(config.file).toBe(path.join(dir, 'configs/ci.json'));
    expect(config.entries[0]).toMatchObject({ document: path.join(dir, 'asyncapi.yaml'), out: path.join(dir, 'ci-out') });
  });

  it('loads a config exporting a function, and inherits top-level options into every entry', async () => {
    const dir = project('config-function', {
      'codegen.config.mjs': `export default async () => ({
        targets: ['nats'],
        compatibility: { mode: 'full', baseline: 'origin/main' },
        documents: [{ document: 'asyncapi.yaml', out: 'a' }, { document: 'asyncapi.yaml', out: 'b', targets: ['kafka', 'rabbitmq'] }],
      });\n`,
    });
    const { config } = await load(dir);
    expect(config.entries.map((e) => e.targets)).toEqual([['nats'], ['kafka', 'rabbitmq']]);
    expect(config.entries[1]!.compatibility).toMatchObject({ mode: 'full', baseline: ['origin/main'], transitive: false, failOn: 'breaking' });
  });

  it('loads `import { defineConfig } from "codegen"` in a .mjs config even where codegen is not installed', async () => {
    const dir = outsideProject('config-self-import', { 'codegen.config.mjs': `import { defineConfig } from 'codegen';\nexport default defineConfig({ documents: [${JSON.stringify(entry)}] });\n` });
    outside.push(dir);
    const { config } = await load(dir);
    expect(config.entries[0]!.targets).toEqual(['kafka']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'codegen.config.mjs')).toEqual([]);
  });

  it('runs `codegen` from a config in each form through the CLI', async () => {
    const dir = project('config-cli', { 'codegen.config.ts': ts.replace("['kafka']", '[]') });
    const result = await cli(['--dry-run'], dir);
    expect(result.stderr).toContain('asyncapi.yaml → out: would write');
    expect(result.code).toBe(0);
  });
});

describe('config errors (exit 2, naming the file and the key)', () => {
  const cases: Array<[string, Record<string, string>, string[]]> = [
    [
      'unknown key, with a suggestion and its line',
      { 'codegen.config.yaml': 'documents:\n  - document: asyncapi.yaml\n    tagets: [kafka]\n    out: out\n' },
      ['codegen.config.yaml:3:5 (#/documents/0/tagets): error E_CONFIG_UNKNOWN_KEY: documents[0].tagets: unknown key "tagets" in documents[0] (did you mean "targets"?)'],
    ],
    [
      'unknown top-level key',
      { 'codegen.config.json': json({ documents: [entry], generates: {} }) },
      ['codegen.config.json:11:3 (#/generates): error E_CONFIG_UNKNOWN_KEY: generates: unknown key "generates"; allowed: documents, targets, templates, source, role, validation, compatibility, allowRemoteRefs, allowOutsideRefs, allowSymlinkedOut'],
    ],
    [
      'wrong type',
      { 'codegen.config.yaml': 'documents:\n  - document: asyncapi.yaml\n    out: 42\n' },
      ['codegen.config.yaml:3:5 (#/documents/0/out): error E_CONFIG_TYPE: documents[0].out: must be a non-empty string (a path relative to the config file), got number 42'],
    ],
    [
      'documents missing',
      { 'codegen.config.yaml': 'targets: [kafka]\n' },
      ['codegen.config.yaml:1:1 (#): error E_CONFIG_MISSING: missing required key "documents" (a list of { document, targets, out })'],
    ],
    [
      'documents not a list',
      { 'codegen.config.yaml': 'documents: asyncapi.yaml\n' },
      ['codegen.config.yaml:1:1 (#/documents): error E_CONFIG_TYPE: documents: must be a list of { document, targets, out }, got the string "asyncapi.yaml"'],
    ],
    ['documents empty', { 'codegen.config.yaml': 'documents: []\n' }, ['codegen.config.yaml:1:1 (#/documents): error E_CONFIG_VALUE: documents: is empty: list at least one { document, targets, out }']],
    [
      'entry without document and out',
      { 'codegen.config.yaml': 'documents:\n  - targets: [kafka]\n' },
      [
        'codegen.config.yaml:2:5 (#/documents/0): error E_CONFIG_MISSING: documents[0]: missing required key "document"',
        'codegen.config.yaml:2:5 (#/documents/0): error E_CONFIG_MISSING: documents[0]: missing required key "out"',
      ],
    ],
    [
      'unknown target, with a suggestion',
      { 'codegen.config.yaml': 'documents:\n  - document: asyncapi.yaml\n    out: out\n    targets: [kafka, nast]\n' },
      ['codegen.config.yaml:4:22 (#/documents/0/targets/1): error E_CONFIG_VALUE: documents[0].targets[1]: unknown target "nast" (did you mean "nats"?); choose from rabbitmq, kafka, nats'],
    ],
    [
      'targets of the wrong type',
      { 'codegen.config.json': json({ documents: [{ ...entry, targets: { kafka: true } }] }) },
      ['codegen.config.json:5:7 (#/documents/0/targets): error E_CONFIG_TYPE: documents[0].targets: must be a list of targets (rabbitmq, kafka, nats), got an object'],
    ],
    [
      'a boolean option given a string',
      { 'codegen.config.yaml': 'allowRemoteRefs: "yes"\ndocuments:\n  - { document: asyncapi.yaml, out: out }\n' },
      ['codegen.config.yaml:1:1 (#/allowRemoteRefs): error E_CONFIG_TYPE: allowRemoteRefs: must be true or false, got the string "yes"'],
    ],
    [
      'compatibility mode and key',
      { 'codegen.config.yaml': 'documents:\n  - document: asyncapi.yaml\n    out: out\n    compatibility:\n      mode: backwards\n      baseine: main\n' },
      [
        'codegen.config.yaml:6:7 (#/documents/0/compatibility/baseine): error E_CONFIG_UNKNOWN_KEY: documents[0].compatibility.baseine: unknown key "baseine" in documents[0].compatibility (did you mean "baseline"?); allowed: mode, baseline, transitive, failOn, ignore',
        'codegen.config.yaml:5:7 (#/documents/0/compatibility/mode): error E_CONFIG_VALUE: documents[0].compatibility.mode: must be one of "backward", "forward", "full", "none" (leave it out to judge by direction), got the string "backwards"',
      ],
    ],
    [
      'two documents writing one folder',
      { 'codegen.config.yaml': 'documents:\n  - { document: asyncapi.yaml, out: src/events }\n  - { document: other.yaml, out: ./src/events/ }\n' },
      ['codegen.config.yaml:3:29 (#/documents/1/out): error E_CONFIG_VALUE: documents[1].out: "src/events" is also the output folder of documents[0]; each document needs a folder of its own'],
    ],
    [
      'a role that is neither side of the document',
      { 'codegen.config.yaml': 'role: server\ndocuments:\n  - { document: asyncapi.yaml, out: out, validation: "no" }\n' },
      [
        'codegen.config.yaml:1:1 (#/role): error E_CONFIG_VALUE: role: must be one of "application", "client", got the string "server"',
        'codegen.config.yaml:3:42 (#/documents/0/validation): error E_CONFIG_TYPE: documents[0].validation: must be true or false, got the string "no"',
      ],
    ],
    [
      'a "codegen" key in package.json, pointed at inside package.json',
      { 'package.json': json({ name: 'x', codegen: { documents: [{ document: 'asyncapi.yaml', out: 'out', targets: 'kafka,natz' }] } }) },
      ['package.json:8:9 (#/codegen/documents/0/targets): error E_CONFIG_VALUE: documents[0].targets: unknown target "natz" (did you mean "nats"?); choose from rabbitmq, kafka, nats'],
    ],
    [
      'a JavaScript config (no line numbers, the key still named)',
      { 'codegen.config.mjs': 'export default { documents: [{ document: "asyncapi.yaml", out: "out", source: 3 }] };\n' },
      ['codegen.config.mjs (#/documents/0/source): error E_CONFIG_TYPE: documents[0].source: must be a non-empty string, got number 3'],
    ],
    ['a config that is not an object', { 'codegen.config.json': '[1, 2]\n' }, ['codegen.config.json:1:1 (#): error E_CONFIG_TYPE: the config must be an object with a "documents" list, got a list']],
    ['malformed YAML', { 'codegen.config.yaml': 'documents:\n  - document: [asyncapi.yaml\n' }, ['E_CONFIG_SYNTAX']],
    ['an empty config file', { '.codegenrc': '\n' }, ['.codegenrc:1:1 (#): error E_CONFIG_EMPTY: .codegenrc is empty']],
    [
      'a TypeScript syntax error, with its line',
      { 'codegen.config.ts': 'export default {\n  documents: [\n    { document: "asyncapi.yaml" out: "out" },\n  ],\n};\n' },
      ["codegen.config.ts:3:33 (#): error E_CONFIG_SYNTAX: cannot load codegen.config.ts: ',' expected."],
    ],
    ['a config that throws', { 'codegen.config.mjs': 'throw new Error("no environment");\n' }, ['codegen.config.mjs (#): error E_CONFIG_LOAD: cannot load codegen.config.mjs: no environment']],
    [
      'a config without a default export',
      { 'codegen.config.mjs': 'export const config = {};\n' },
      ['codegen.config.mjs (#): error E_CONFIG_NO_EXPORT: codegen.config.mjs exports no config: write `export default defineConfig({ ... })` (or `module.exports = { ... }`)'],
    ],
    [
      'a config importing a missing package',
      { 'codegen.config.mjs': 'import x from "no-such-package-here";\nexport default x;\n' },
      ["E_CONFIG_LOAD: cannot load codegen.config.mjs: Cannot find package 'no-such-package-here'"],
    ],
  ];
  for (const [name, files, expected] of cases) {
    it(name, async () => {
      const dir = project('config-error', files);
      const result = await cli(['--check'], dir);
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(expected.length);
      expected.forEach((text, i) => expect(lines[i]).toContain(text));
      expect(result.stdout).toBe('');
    });
  }

  it('a TypeScript config where the project has no `typescript` says what to do instead', async () => {
    const dir = outsideProject('config-no-ts', { 'codegen.config.ts': ts });
    outside.push(dir);
    const error = await configError(dir);
    expect(error.exitCode).toBe(2);
    expect(error.diagnostics[0]).toMatchObject({
      code: 'E_CONFIG_TS_UNSUPPORTED',
      message:
        'codegen.config.ts is TypeScript, and loading it needs the `typescript` package, which is not installed in this project: run `npm install --save-dev typescript`, or write the config as codegen.config.mjs, .js, .json or .yaml',
    });
  });

  it('no config at all: exit 2 with the way out', async () => {
    const dir = project('config-none', {});
    mkdirSync(path.join(dir, '.git'));
    const result = await cli([], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error E_CONFIG_NOT_FOUND: no codegen config found');
    expect(result.stderr).toContain('run `codegen init`');
  });

  it('--config naming a missing file', async () => {
    const dir = project('config-missing', {});
    const result = await cli(['--config', 'nope.yaml'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error E_CONFIG_NOT_FOUND: --config nope.yaml: no such file');
  });

  it('--json reports a config error on stdout too', async () => {
    const dir = project('config-json-error', { 'codegen.config.yaml': 'documents: []\n' });
    const result = await cli(['--check', '--json'], dir);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { diagnostics: [{ code: 'E_CONFIG_VALUE' }] } });
  });
});

describe('defineConfig and the package entry', () => {
  it('types a TypeScript config: tsc accepts a valid one and names the wrong key of a bad one (needs npm run build)', async () => {
    const dir = project('config-types', {
      'good/codegen.config.ts': ts,
      'bad/codegen.config.ts': "import { defineConfig } from 'asyncapi-codegen-ts';\nexport default defineConfig({ documents: [{ document: 'a.yaml', out: 'o', tagets: ['kafka'] }] });\n",
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, types: [] }, include: ['*/codegen.config.ts'] }),
    });
    const { execFile } = await import('node:child_process');
    const output = await new Promise<string>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { cwd: dir }, (_error, stdout, stderr) => resolve(stdout + stderr));
    });
    const errors = output.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^bad\/codegen\.config\.ts\(2,\d+\): error TS2561: .*'tagets' does not exist in type 'DocumentConfig'. Did you mean to write 'targets'\?/);
  });
});
