import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { initCommand } from '../../src/commands/init.js';
import { loadConfig } from '../../src/config/index.js';
import { compileStrict, FIXTURES } from '../helpers/codegen.js';
import { cli, hashTree, project } from './support.js';

const EXAMPLE = readFileSync(path.join(FIXTURES, 'example/asyncapi.yaml'), 'utf8');

describe('codegen init', () => {
  it('in an empty folder: config and example document; the config works and the example compiles under --strict', async () => {
    const dir = project('init-empty', {}, { fixture: false });
    const result = await cli(['init', '--yes', '--document', 'asyncapi.yaml', '--target', 'kafka', '--out', 'src/events'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('✔ wrote codegen.config.mjs\n✔ wrote asyncapi.yaml\n');
    expect(result.stderr).toContain('no package.json here');
    expect(readFileSync(path.join(dir, 'codegen.config.mjs'), 'utf8')).toBe(
      [
        '// codegen configuration (see the docs: workflow.md)',
        "/** @type {import('asyncapi-codegen-ts').CodegenConfig} */",
        'export default {',
        '  documents: [',
        '    {',
        "      document: 'asyncapi.yaml',",
        "      targets: ['kafka'],",
        "      out: 'src/events',",
        '    },',
        '  ],',
        '};',
        '',
      ].join('\n'),
    );
    const run = await cli([], dir);
    expect(run.code).toBe(0);
    expect(existsSync(path.join(dir, 'src/events/kafka/client.ts'))).toBe(true);
    expect((await cli(['--check'], dir)).code).toBe(0);
    await compileStrict([path.join(dir, 'src/events')]);
  });

  it('--yes with an existing document writes a working config for it, and never overwrites anything', async () => {
    const dir = project('init-existing', {}, { fixture: false });
    writeFileSync(path.join(dir, 'asyncapi.yaml'), EXAMPLE);
    const packageJson = '{\n    "name": "shop",\n    "scripts": {\n        "codegen": "my own codegen",\n        "build": "tsc"\n    }\n}\n';
    writeFileSync(path.join(dir, 'package.json'), packageJson);
    const result = await cli(['init', '--yes', '--document', 'asyncapi.yaml', '--target', 'kafka', '--out', 'src/events'], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('✔ wrote codegen.config.mjs\n');
    expect(result.stderr).not.toContain('wrote asyncapi.yaml');
    expect(result.stderr).toContain('added to package.json scripts: codegen:check');
    expect(result.stderr).toContain('package.json already has scripts named codegen: kept as they are');
    expect(readFileSync(path.join(dir, 'asyncapi.yaml'), 'utf8')).toBe(EXAMPLE);
    // The existing script is kept, the new one added, the file's four-space indentation kept.
    expect(readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(
      '{\n    "name": "shop",\n    "scripts": {\n        "codegen": "my own codegen",\n        "build": "tsc",\n        "codegen:check": "codegen --check"\n    }\n}\n',
    );
    const { config } = await loadConfig({ cwd: dir, stopAt: dir });
    expect(config.entries[0]).toMatchObject({ document: path.join(dir, 'asyncapi.yaml'), targets: ['kafka'], out: path.join(dir, 'src/events') });
    expect((await cli([], dir)).code).toBe(0);
    expect(existsSync(path.join(dir, 'src/events/kafka/client.ts'))).toBe(true);

    // Again: a config exists now, so nothing at all is written.
    const before = hashTree(dir);
    const again = await cli(['init', '--yes', '--target', 'nats', '--format', 'json'], dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('codegen.config.mjs already exists: nothing written (codegen init never overwrites a file)');
    expect(hashTree(dir)).toEqual(before);
  });

  it('writes each config format, and each loads to the same entry', async () => {
    for (const format of ['ts', 'mjs', 'json', 'yaml']) {
      const dir = project(`init-${format}`, {}, { fixture: false });
      const result = await cli(['init', '--yes', '--target', 'nats,kafka', '--out', 'generated', '--format', format, '--no-scripts'], dir);
      expect(result.code).toBe(0);
      expect(existsSync(path.join(dir, `codegen.config.${format}`))).toBe(true);
      const { config } = await loadConfig({ cwd: dir, stopAt: dir });
      expect(config.entries[0]).toMatchObject({ document: path.join(dir, 'asyncapi.yaml'), targets: ['kafka', 'nats'], out: path.join(dir, 'generated') });
    }
  });

  it('defaults to a TypeScript config when the project has typescript and a tsconfig.json', async () => {
    const dir = project('init-ts-default', { 'tsconfig.json': '{}\n' }, { fixture: false });
    const result = await cli(['init', '--yes'], dir);
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(dir, 'codegen.config.ts'), 'utf8')).toContain("import { defineConfig } from 'asyncapi-codegen-ts';");
    expect(result.stderr).toContain('no target chosen: types, validators and the envelope only');
    const { config } = await loadConfig({ cwd: dir, stopAt: dir });
    expect(config.entries[0]!.targets).toEqual([]);
  });

  it('without a terminal it asks nothing; on one it asks, with the found document as the default', async () => {
    const dir = project('init-ask', {}, { fixture: false });
    writeFileSync(path.join(dir, 'package.json'), '{ "name": "x" }\n');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'api'));
    writeFileSync(path.join(dir, 'api/events.yaml'), EXAMPLE);
    let stderr = '';
    const io: CliIO = { stdout: () => undefined, stderr: (t) => void (stderr += t), isTTY: true, env: { NO_COLOR: '1' }, cwd: dir };
    const questions: string[] = [];
    const answers = ['', 'kafka,nast', 'kafka, rabbitmq', '', 'yaml'];
    const code = await initCommand({ yes: false, scripts: true }, io, async (question) => {
      questions.push(question);
      return answers.shift() ?? '';
    });
    expect(code).toBe(0);
    expect(questions).toEqual([
      'AsyncAPI document (api/events.yaml): ',
      'Targets: rabbitmq, kafka, nats (comma-separated), or none (kafka): ',
      'Targets: rabbitmq, kafka, nats (comma-separated), or none (kafka): ',
      'Output folder (src/events): ',
      'Config format: ts, mjs, json, yaml (mjs): ',
    ]);
    expect(stderr).toContain('! unknown target "nast"');
    expect(readFileSync(path.join(dir, 'codegen.config.yaml'), 'utf8')).toBe(
      '# codegen configuration (see the docs: workflow.md)\ndocuments:\n  - document: api/events.yaml\n    targets: [kafka, rabbitmq]\n    out: src/events\n',
    );
    expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))).toEqual({ name: 'x', scripts: { codegen: 'codegen', 'codegen:check': 'codegen --check' } });
    expect((await cli(['--dry-run'], dir)).code).toBe(0);
  });

  it('refuses a bad target or format (exit 2) and writes nothing', async () => {
    const dir = project('init-bad', {}, { fixture: false });
    let result = await cli(['init', '--yes', '--target', 'kafak'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown target "kafak"');
    result = await cli(['init', '--yes', '--format', 'toml'], dir);
    expect(result.code).toBe(2);
    expect(hashTree(dir).size).toBe(0);
  });
});
