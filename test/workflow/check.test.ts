import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, binary, cli, hashTree, mtimes, project } from './support.js';

const execFileAsync = promisify(execFile);

const config = (documents: object[]) => ({ 'codegen.config.json': JSON.stringify({ documents }, null, 2) + '\n' });
const one = config([{ document: 'asyncapi.yaml', out: 'out' }]);

/** A project generated once, copied for each case. */
let generated: string;
beforeAll(async () => {
  generated = project('check-base', one);
  const result = await cli([], generated);
  expect(result.stderr).toMatch(/✔ asyncapi\.yaml → out: wrote \d+ file\(s\), 0 unchanged, 0 removed/);
  expect(result.code).toBe(0);
});

function copy(label: string): string {
  const dir = project(label, {}, { fixture: false });
  for (const [file] of hashTree(generated)) {
    const target = path.join(dir, file);
    writeFiles(target, readFileSync(path.join(generated, file)));
  }
  return dir;
}

function writeFiles(target: string, content: Buffer): void {
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content);
}

describe('codegen (config run)', () => {
  it('a second run writes nothing and says so', async () => {
    const dir = copy('run-again');
    const before = mtimes(dir);
    const result = await cli([], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/✔ asyncapi\.yaml → out: wrote 0 file\(s\), \d+ unchanged, 0 removed \(\d+ ms\)/);
    expect(mtimes(dir)).toEqual(before);
  });

  it('--json prints the result on stdout and nothing else', async () => {
    const dir = copy('run-json');
    const result = await cli(['--json'], dir);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ mode: 'write', config: 'codegen.config.json', ok: true, exitCode: 0, totals: { written: 0, removed: 0, failed: 0 } });
    expect(parsed.entries[0]).toMatchObject({ document: 'asyncapi.yaml', out: 'out', targets: [], status: 'ok', created: [], updated: [], removed: [] });
    expect(parsed.entries[0].unchanged).toContain('types.ts');
  });

  it('--dry-run lists what would be created, updated and removed, and writes nothing', async () => {
    const dir = copy('dry-run');
    rmSync(path.join(dir, 'out/types.ts'));
    appendFileSync(path.join(dir, 'out/index.ts'), '// edited\n');
    writeFileSync(path.join(dir, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out', targets: ['nats'] }] }));
    const before = hashTree(dir);
    const result = await cli(['--dry-run'], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('create   out/types.ts');
    expect(result.stderr).toContain('update   out/index.ts');
    expect(result.stderr).toContain('create   out/nats/client.ts');
    expect(result.stderr).toMatch(/• asyncapi\.yaml → out: would write \d+ file\(s\), \d+ unchanged, 0 to remove/);
    expect(hashTree(dir)).toEqual(before);
  });
});

describe('codegen --check', () => {
  it('up to date: exit 0, and nothing on disk changes', async () => {
    const dir = copy('check-ok');
    const before = hashTree(dir);
    const times = mtimes(dir);
    const result = await cli(['--check'], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^✔ asyncapi\.yaml → out: up to date \(\d+ files\)\n$/);
    expect(result.stdout).toBe('');
    expect(hashTree(dir)).toEqual(before);
    expect(mtimes(dir)).toEqual(times);
  });

  it('stale, missing and extra files: exit 1, each listed, nothing on disk changes', async () => {
    const dir = copy('check-stale');
    // stale: a generated file edited by hand
    appendFileSync(path.join(dir, 'out/types.ts'), '// edited by hand\n');
    // missing: a generated file deleted
    rmSync(path.join(dir, 'out/validators.ts'));
    // extra: the config no longer asks for a file the manifest lists (drop a target it had)
    const manifest = JSON.parse(readFileSync(path.join(dir, 'out/.codegen-manifest.json'), 'utf8'));
    manifest.files['kafka/old.ts'] = 'x';
    writeFileSync(path.join(dir, 'out/.codegen-manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    writeFiles(path.join(dir, 'out/kafka/old.ts'), Buffer.from('// generated earlier\n'));
    const before = hashTree(dir);
    const result = await cli(['--check'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toEqual([
      'missing  out/validators.ts',
      'stale    out/types.ts',
      'extra    out/kafka/old.ts',
      '✖ asyncapi.yaml → out: 3 generated file(s) out of date',
      'run `codegen` to update the generated code',
      '',
    ]);
    expect(hashTree(dir)).toEqual(before);

    const json = await cli(['--check', '--json'], dir);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'check', ok: false, exitCode: 1, upToDate: false, entries: [{ status: 'stale', missing: ['validators.ts'], stale: ['types.ts'], extra: ['kafka/old.ts'] }] });

    // `codegen generate` runs the same job through the same path: the same lines, the same JSON
    // entry; only the command to run again differs, and its JSON names no config.
    const generate = await cli(['generate', 'asyncapi.yaml', '--out', 'out', '--check'], dir);
    expect(generate.code).toBe(1);
    expect(generate.stderr).toBe(result.stderr.replace('run `codegen`', 'run `codegen generate`'));
    const generateJson = await cli(['generate', 'asyncapi.yaml', '--out', 'out', '--check', '--json'], dir);
    const { config: _config, elapsedMs: _elapsed, threads: _threads, ...configRun } = JSON.parse(json.stdout);
    const { elapsedMs: _generateElapsed, ...generateRun } = JSON.parse(generateJson.stdout);
    const withoutTimes = (run: { entries: Array<Record<string, unknown>> }) => ({ ...run, entries: run.entries.map(({ elapsedMs: _ms, fromCache: _cached, ...entry }) => entry) });
    expect(withoutTimes(generateRun)).toEqual(withoutTimes(configRun));

    const github = await cli(['--check', '--format', 'github'], dir);
    expect(github.code).toBe(1);
    expect(github.stdout.split('\n')).toEqual([
      '::error file=out/validators.ts,title=codegen --check::missing generated file: run `npx codegen` to generate it from asyncapi.yaml',
      '::error file=out/types.ts,title=codegen --check::stale generated file: it differs from what asyncapi.yaml generates; run `npx codegen`',
      '::error file=out/kafka/old.ts,title=codegen --check::extra generated file: asyncapi.yaml no longer generates it; run `npx codegen` to remove it',
      '',
    ]);
    expect(hashTree(dir)).toEqual(before);

    // `codegen` repairs all three, and --check then passes.
    expect((await cli([], dir)).code).toBe(0);
    expect(existsSync(path.join(dir, 'out/kafka/old.ts'))).toBe(false);
    expect((await cli(['--check'], dir)).code).toBe(0);
  });

  it('a changed document makes the output stale', async () => {
    const dir = copy('check-doc');
    const schema = path.join(dir, 'schemas/user.yaml');
    writeFileSync(schema, readFileSync(schema, 'utf8') + '    name:\n      type: string\n');
    const result = await cli(['--check'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stale    out/types.ts');
  });

  it('a missing output folder: every file is missing', async () => {
    const dir = project('check-empty', one);
    const result = await cli(['--check', '--json'], dir);
    expect(result.code).toBe(1);
    const entry = JSON.parse(result.stdout).entries[0];
    expect(entry.missing.length).toBeGreaterThan(5);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('several documents: one broken document does not hide the others, and the exit code is the worst', async () => {
    const dir = copy('check-many');
    writeFileSync(path.join(dir, 'broken.yaml'), 'asyncapi: 3.0.0\ninfo: {title: x}\n');
    writeFileSync(
      path.join(dir, 'codegen.config.json'),
      JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out' }, { document: 'broken.yaml', out: 'broken-out' }, { document: 'asyncapi.yaml', out: 'second', targets: ['kafka'] }] }),
    );
    const result = await cli(['--check'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('✔ asyncapi.yaml → out: up to date');
    expect(result.stderr).toMatch(/✖ broken\.yaml.*error/);
    expect(result.stderr).toContain('✖ broken.yaml → broken-out: failed');
    expect(result.stderr).toMatch(/✖ asyncapi\.yaml → second: \d+ generated file\(s\) out of date/);
    expect(result.stderr).toMatch(/✖ \d+ generated file\(s\) out of date in 1 of 3 documents, 1 failed/);
    // Writing still writes the good ones, keeps nothing half-done for the broken one.
    const write = await cli([], dir);
    expect(write.code).toBe(1);
    expect(existsSync(path.join(dir, 'second/kafka/client.ts'))).toBe(true);
    expect(existsSync(path.join(dir, 'broken-out'))).toBe(false);
  });

  it('files on the command line select the documents they concern', async () => {
    const dir = copy('check-files');
    writeFileSync(path.join(dir, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out' }, { document: 'other.yaml', out: 'other-out' }] }));
    // other.yaml does not exist: selecting only asyncapi.yaml's entry must not touch it.
    let result = await cli(['--check', 'schemas/user.yaml'], dir);
    expect(result.stderr).toMatch(/^✔ asyncapi\.yaml → out: up to date \(\d+ files\)\n$/);
    expect(result.code).toBe(0);
    result = await cli(['--check', 'out/types.ts'], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('other.yaml');
    result = await cli(['--check', 'README.md'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no such file: README.md');
    writeFileSync(path.join(dir, 'README.md'), 'hello\n');
    result = await cli(['--check', 'README.md'], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('nothing to check: no file belongs to a document of codegen.config.json');
    // The config itself concerns every document.
    result = await cli(['--check', 'codegen.config.json'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('other.yaml');
  });

  it('refuses incompatible flags before doing anything (exit 2)', async () => {
    const dir = copy('check-flags');
    const cases: Array<[string[], string]> = [
      [['--check', '--dry-run'], '--check and --dry-run cannot be combined'],
      [['--watch', '--check'], '--watch cannot be combined with --check'],
      [['--watch', 'asyncapi.yaml'], '--watch runs every document of the config; it takes no files'],
      [['--json', '--format', 'github'], '--json and --format cannot be combined'],
      [['--against', 'HEAD', '--baseline'], 'give either --against <revision> or --baseline, not both'],
      [['--staged', 'asyncapi.yaml'], 'give either --staged or a list of files, not both'],
      [['generte'], 'no such file: generte; and "generte" is not a command (generate, validate, diff, init)'],
      [['--concurrency', '0'], '--concurrency 0: give a whole number of at least 1'],
    ];
    const before = hashTree(dir);
    for (const [args, message] of cases) {
      const result = await cli(args, dir);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(hashTree(dir)).toEqual(before);
  });

  it('progress and colour only on a terminal, never with NO_COLOR or --json', async () => {
    // Progress shows once a run has taken 300 ms; at once here, so the test does not depend on the machine's speed.
    const slow = { CODEGEN_CACHE: '0', CODEGEN_PROGRESS_AFTER_MS: '0' };
    const tty = await cli(['--dry-run'], project('progress-tty', one), { isTTY: true, env: { ...slow, NO_COLOR: '' } });
    expect(tty.stderr).toMatch(/\r\u001b\[K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 1\/1 asyncapi\.yaml/);
    expect(tty.stderr).toContain('\u001b[2m•\u001b[0m asyncapi.yaml → out: would write');
    const noColor = await cli(['--dry-run'], project('progress-nocolor', one), { isTTY: true, env: { ...slow, NO_COLOR: '1' } });
    expect(noColor.stderr).toMatch(/\r\u001b\[K/);
    expect(noColor.stderr).not.toMatch(/\u001b\[\d+m/);
    const json = await cli(['--dry-run', '--json'], project('progress-json', one), { isTTY: true, env: { ...slow, NO_COLOR: '' } });
    expect(json.stderr).not.toContain('\r');
    expect(JSON.parse(json.stdout).mode).toBe('dry-run');
    const pipe = await cli(['--dry-run'], project('progress-pipe', one), { isTTY: false, env: { ...slow, NO_COLOR: '' } });
    expect(pipe.stderr).not.toMatch(/\r|\u001b/);
  });

  it('documents that miss the cache get worker threads; the output is the same byte for byte (built binary)', async () => {
    const dir = project('threads', config([
      { document: 'asyncapi.yaml', out: 'a', targets: ['kafka'] },
      { document: 'asyncapi.yaml', out: 'b', targets: ['nats'] },
      { document: 'asyncapi.yaml', out: 'c', targets: ['rabbitmq'] },
    ]));
    // Threads join once the run has taken CODEGEN_THREADS_AFTER_MS (300 by default; three cold entries can take less).
    const cold = { ...process.env, NO_COLOR: '1', CODEGEN_CACHE: '0', CODEGEN_THREADS_AFTER_MS: '0' };
    const { stdout } = await execFileAsync(process.execPath, [BIN, '--json'], { cwd: dir, env: cold });
    const result = JSON.parse(stdout);
    expect(result.threads).toBeGreaterThanOrEqual(1);
    expect(result.entries.map((e: { status: string }) => e.status)).toEqual(['ok', 'ok', 'ok']);
    // Generated again in one thread, without the cache, and compared with what the threads wrote.
    const check = await binary(['--check', '--concurrency', '1', '--no-cache'], dir);
    expect(check.stderr).toContain('3 documents up to date');
    expect(check.code).toBe(0);
  });

  it('subcommands keep their own flags (positional options)', async () => {
    const dir = copy('check-subcommand');
    const result = await cli(['generate', 'asyncapi.yaml', '--out', 'out', '--check', '--json'], dir);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ mode: 'check', upToDate: true });
  });
});
