import Ajv from 'ajv';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FIXTURES, freshDir, ROOT, runInProcess } from '../helpers/codegen.js';

/**
 * The gate when history is imperfect: an old version that does not validate is compared
 * best-effort and says so in every format; the new one must validate; remote refs are reported
 * once per URL, with their column and the flag that allows them.
 */
const schema = JSON.parse(readFileSync(path.join(ROOT, 'docs/diff-output.schema.json'), 'utf8'));
const validateReport = new Ajv({ strict: true, allErrors: true }).compile(schema);
const base = readFileSync(path.join(FIXTURES, 'diff/bases/send.yaml'), 'utf8');

function versions(oldText: string, newText: string): { dir: string; old: string; new: string } {
  const dir = freshDir('diff-gate');
  writeFileSync(path.join(dir, 'old.yaml'), oldText);
  writeFileSync(path.join(dir, 'new.yaml'), newText);
  return { dir, old: path.join(dir, 'old.yaml'), new: path.join(dir, 'new.yaml') };
}

// An example whose $ref resolves nowhere: the old version does not validate, but reads into the model.
const invalidOld = base.replace('      contentType: application/json\n', "      contentType: application/json\n      examples:\n        - payload: { $ref: '#/components/examples/missing' }\n");

describe('diff gate on imperfect history', () => {
  it('compares an invalid old version best-effort: BASE_INVALID warnings, marked in JSON, text and annotations', async () => {
    expect(invalidOld).not.toBe(base);
    const files = versions(invalidOld, base);
    const json = await runInProcess(['diff', files.old, files.new, '--format', 'json', '--no-ignore'], files.dir);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { bestEffort?: string[]; findings: Array<{ ruleId: string; old?: { line?: number; pointer: string } }> };
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
    expect(report.bestEffort).toEqual([files.old]);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['BASE_INVALID']);
    expect(report.findings[0]!.old).toMatchObject({ pointer: '/components/messages/OrderPlaced/examples/0/payload/$ref' });
    expect(report.findings[0]!.old?.line).toBeGreaterThan(1);
    const text = await runInProcess(['diff', files.old, files.new, '--no-ignore'], files.dir);
    expect(text.stdout).toContain('best-effort verdict');
    const github = await runInProcess(['diff', files.old, files.new, '--format', 'github', '--no-ignore'], files.dir);
    expect(github.stdout).toMatch(/^::warning title=codegen diff \(best-effort\)::/m);
    const junit = await runInProcess(['diff', files.old, files.new, '--format', 'junit', '--no-ignore'], files.dir);
    expect(junit.stdout).toContain('<property name="best-effort"');
  });

  it('--strict-base refuses the same old version (exit 2, nothing on stdout)', async () => {
    const files = versions(invalidOld, base);
    const result = await runInProcess(['diff', files.old, files.new, '--strict-base', '--no-ignore'], files.dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--strict-base');
  });

  it('reports an invalid new version as findings at their locations (exit 1), refused remote refs once per URL with their column', async () => {
    const doc = JSON.parse(JSON.stringify((await import('yaml')).parse(base))) as { components: { schemas: { Order: { properties: Record<string, unknown> } } } };
    const remote = 'https://schemas.example.com/customer.json';
    Object.assign(doc.components.schemas.Order.properties, { customer: { $ref: remote }, billing: { $ref: remote }, shipping: { $ref: remote } });
    const files = versions(base, stringify(doc));
    const result = await runInProcess(['diff', files.old, files.new, '--format', 'json', '--no-ignore'], files.dir);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; message: string; new?: { line?: number; column?: number } }> };
    const refused = report.findings.filter((f) => f.message.includes(remote));
    expect(refused).toHaveLength(1);
    expect(refused[0]!.ruleId).toBe('DOCUMENT_INVALID');
    expect(refused[0]!.message).toContain('--allow-remote-refs');
    expect(refused[0]!.message).toContain('3 references to this URL');
    expect(refused[0]!.new?.column).toBeGreaterThan(1);
  });
});
