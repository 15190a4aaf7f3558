import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freshDir, runInProcess } from '../helpers/codegen.js';

/** A multi-file document: the root, a messages file and a schemas file, referencing each other. */
function writeDocument(dir: string, options: { amountRequired: boolean; currencies: string[]; version: string }): void {
  mkdirSync(path.join(dir, 'api/schemas'), { recursive: true });
  writeFileSync(
    path.join(dir, 'api/asyncapi.yaml'),
    stringify({
      asyncapi: '3.0.0',
      info: { title: 'Payments', version: options.version },
      channels: { payments: { address: 'payments', messages: { paymentRequested: { $ref: './messages.yaml#/PaymentRequested' } } } },
      operations: { requestPayment: { action: 'send', channel: { $ref: '#/channels/payments' } } },
    }),
  );
  writeFileSync(path.join(dir, 'api/messages.yaml'), stringify({ PaymentRequested: { name: 'payment.requested', payload: { $ref: './schemas/payment.yaml' } } }));
  writeFileSync(
    path.join(dir, 'api/schemas/payment.yaml'),
    stringify({
      type: 'object',
      required: options.amountRequired ? ['id', 'amount'] : ['id'],
      properties: { id: { type: 'string' }, amount: { type: 'number' }, currency: { $ref: './currency.yaml' } },
    }),
  );
  writeFileSync(path.join(dir, 'api/schemas/currency.yaml'), stringify({ type: 'string', enum: options.currencies }));
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });
}

function repository(): string {
  const dir = freshDir('diff-against');
  git(dir, 'init', '-q');
  writeDocument(dir, { amountRequired: true, currencies: ['EUR', 'USD'], version: '1.0.0' });
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'v1');
  git(dir, 'tag', 'v1');
  writeDocument(dir, { amountRequired: true, currencies: ['EUR', 'USD', 'GBP'], version: '1.1.0' });
  git(dir, 'commit', '-q', '-am', 'v1.1: GBP');
  git(dir, 'tag', 'v1.1');
  // Working tree: amount optional, in a referenced file two levels down.
  writeDocument(dir, { amountRequired: false, currencies: ['EUR', 'USD', 'GBP'], version: '1.1.0' });
  return dir;
}

interface Report {
  old: string[];
  findings: Array<{ ruleId: string; severity: string; old?: { file: string; pointer: string; revision?: string; line?: number }; new?: { file: string; pointer: string }; against: string[] }>;
}

describe('diff --against <git-ref>', () => {
  it('reads the old version and every file it references from git', async () => {
    const dir = repository();
    const result = await runInProcess(['diff', '--against', 'HEAD', 'api/asyncapi.yaml', '--format', 'json'], dir);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.old).toEqual(['HEAD:api/asyncapi.yaml']);
    const finding = report.findings.find((f) => f.ruleId === 'SCHEMA_REQUIRED_REMOVED')!;
    expect(finding.severity).toBe('breaking');
    expect(finding.old).toMatchObject({ file: path.join('api', 'schemas', 'payment.yaml'), revision: 'HEAD', pointer: '/required/1' });
    expect(finding.new).toMatchObject({ file: path.join('api', 'schemas', 'payment.yaml'), pointer: '/required' });
    expect(report.findings.map((f) => f.ruleId).sort()).toEqual(['SCHEMA_REQUIRED_REMOVED', 'VERSION_NOT_BUMPED']);
    // Text output names the revision.
    const text = await runInProcess(['diff', '--against', 'HEAD', 'api/asyncapi.yaml'], dir);
    expect(text.stdout).toContain(`old: HEAD:${path.join('api', 'schemas', 'payment.yaml')}:`);
  });

  it('compares with an older tag, from another working directory', async () => {
    const dir = repository();
    const result = await runInProcess(['diff', '--against', 'v1', path.join(dir, 'api/asyncapi.yaml'), '--format', 'json'], path.join(dir, 'api/schemas'));
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.findings.map((f) => `${f.ruleId} ${f.severity}`).sort()).toEqual(['INFO_VERSION_CHANGED info', 'SCHEMA_ENUM_VALUE_ADDED breaking', 'SCHEMA_REQUIRED_REMOVED breaking', 'VERSION_NOT_BUMPED warning']);
  });

  it('--transitive checks the new version against several revisions', async () => {
    const dir = repository();
    const result = await runInProcess(['diff', '--transitive', '--against', 'v1', '--against', 'v1.1', 'api/asyncapi.yaml', '--format', 'json'], dir);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.old).toEqual(['v1:api/asyncapi.yaml', 'v1.1:api/asyncapi.yaml']);
    const required = report.findings.find((f) => f.ruleId === 'SCHEMA_REQUIRED_REMOVED')!;
    expect(required.against).toEqual(['v1:api/asyncapi.yaml', 'v1.1:api/asyncapi.yaml']);
    const currency = report.findings.find((f) => f.ruleId === 'SCHEMA_ENUM_VALUE_ADDED')!;
    expect(currency.against).toEqual(['v1:api/asyncapi.yaml']);
    // Several refs without --transitive is a usage error.
    expect((await runInProcess(['diff', '--against', 'v1', '--against', 'v1.1', 'api/asyncapi.yaml'], dir)).code).toBe(2);
  });

  it('cannot run (exit 2) on a bad ref, outside a repository, or when the file did not exist at the ref', async () => {
    const dir = repository();
    const bad = await runInProcess(['diff', '--against', 'no-such-ref', 'api/asyncapi.yaml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('--against no-such-ref: not a commit');
    expect((await runInProcess(['diff', '--against', '--help-me', 'api/asyncapi.yaml'], dir)).code).toBe(2);
    writeFileSync(path.join(dir, 'api/new.yaml'), 'asyncapi: 3.0.0\ninfo: { title: x, version: 1.0.0 }\n');
    const missing = await runInProcess(['diff', '--against', 'HEAD', 'api/new.yaml'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist at that revision');
    // .cache/test-runs lives inside the project's own repository: use the system's temporary folder.
    const noRepo = mkdtempSync(path.join(os.tmpdir(), 'codegen-diff-norepo-'));
    try {
      writeDocument(noRepo, { amountRequired: true, currencies: ['EUR'], version: '1.0.0' });
      const notRepo = await runInProcess(['diff', '--against', 'HEAD', 'api/asyncapi.yaml'], noRepo);
      expect(notRepo.code).toBe(2);
      expect(notRepo.stderr).toContain('needs a git repository');
    } finally {
      rmSync(noRepo, { recursive: true, force: true });
    }
  });
});

describe('diff usage', () => {
  it('rejects bad invocations before doing any work (exit 2)', async () => {
    const dir = repository();
    const doc = 'api/asyncapi.yaml';
    for (const args of [[doc], [doc, doc, doc], [doc, 'missing.yaml'], [doc, doc, '--mode', 'sideways'], [doc, doc, '--format', 'xml'], [doc, doc, '--fail-on', 'everything'], ['--against', 'HEAD', doc, doc]]) {
      const result = await runInProcess(['diff', ...args], dir);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
    }
  });

  it('--transitive with files: the last document is the new one', async () => {
    const dir = freshDir('diff-transitive-files');
    writeDocument(path.join(dir, 'v1'), { amountRequired: true, currencies: ['EUR'], version: '1.0.0' });
    writeDocument(path.join(dir, 'v2'), { amountRequired: true, currencies: ['EUR', 'USD'], version: '2.0.0' });
    writeDocument(path.join(dir, 'v3'), { amountRequired: false, currencies: ['EUR', 'USD'], version: '3.0.0' });
    const result = await runInProcess(['diff', '--transitive', 'v1/api/asyncapi.yaml', 'v2/api/asyncapi.yaml', 'v3/api/asyncapi.yaml', '--format', 'json'], dir);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    const byRule = (id: string) => report.findings.find((f) => f.ruleId === id)!;
    expect(byRule('SCHEMA_ENUM_VALUE_ADDED').against).toEqual(['v1/api/asyncapi.yaml']);
    expect(byRule('SCHEMA_REQUIRED_REMOVED').against).toEqual(['v1/api/asyncapi.yaml', 'v2/api/asyncapi.yaml']);
  });
});
