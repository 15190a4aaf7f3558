// `codegen diff --against-registry <url>`: each Avro message of the document against the latest
// version registered under its subject, judged by the diff rules, on the real schema registry.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDir, runInProcess } from '../helpers/codegen.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';

const V1 = [{ name: 'id', type: 'string' }];

/** A document whose one channel (its address unique to the test) receives an Avro Signup. */
function document(address: string, fields: unknown[]): string {
  const file = path.join(freshDir('avro-diff'), 'asyncapi.json');
  writeFileSync(file, JSON.stringify({
    asyncapi: '3.0.0',
    info: { title: 'signups', version: '1.0.0' },
    channels: { signups: { address, messages: { signup: { payload: { schemaFormat: 'application/vnd.apache.avro;version=1.11.1', schema: { type: 'record', name: 'Signup', namespace: 'codegen.diff', fields } } } } } },
    operations: { receiveSignup: { action: 'receive', channel: { $ref: '#/channels/signups' } } },
  }));
  return file;
}

async function register(subject: string, fields: unknown[]): Promise<number> {
  const schema = JSON.stringify({ type: 'record', name: 'Signup', namespace: 'codegen.diff', fields });
  const response = await fetch(`${REGISTRY_URL}/subjects/${subject}/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema }) });
  return response.status;
}

describe(`codegen diff --against-registry (${REGISTRY_URL})`, () => {
  let address: string;
  beforeAll(async () => {
    expect(await registryUp(), `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start`).toBe(true);
    address = `codegen-diff-${randomUUID()}`;
    expect(await register(`${address}-value`, V1)).toBe(200);
    await fetch(`${REGISTRY_URL}/config/${address}-value`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
  });

  it('passes a compatible change (a field added with a default)', async () => {
    const result = await runInProcess(['diff', '--against-registry', REGISTRY_URL, document(address, [...V1, { name: 'plan', type: 'string', default: 'FREE' }])]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/^BREAKING/m);
    expect(result.stdout).toMatch(/AVRO_FIELD_ADDED_WITH_DEFAULT\s+`plan` was added with a default/);
  });

  it('fails (exit 1) on a change the registry refuses too: a field added without a default', async () => {
    const fields = [...V1, { name: 'count', type: 'int' }];
    const result = await runInProcess(['diff', '--against-registry', REGISTRY_URL, '--format', 'json', document(address, fields)]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; severity: string; message: string }>; old: string[] };
    expect(report.old).toEqual([`registry ${REGISTRY_URL}`]);
    expect(report.findings.some((f) => f.severity === 'breaking' && /count/.test(f.message))).toBe(true);
    expect(await register(`${address}-value`, fields)).toBe(409);
  });

  it('passes a subject the registry does not know yet, and cannot run (exit 2) without a registry', async () => {
    expect((await runInProcess(['diff', '--against-registry', REGISTRY_URL, document(`codegen-new-${randomUUID()}`, V1)])).code).toBe(0);
    const unreachable = await runInProcess(['diff', '--against-registry', 'http://127.0.0.1:9/apis/ccompat/v7', document(address, V1)]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/cannot be reached/);
  });
});
