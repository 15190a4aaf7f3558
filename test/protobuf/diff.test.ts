// `codegen diff` on Protobuf messages: codegen does not judge Protobuf compatibility; a changed
// .proto is a warning to review by hand (MESSAGE_PAYLOAD_NOT_COMPARED), between two documents and
// against the schema registry's latest version (on the real registry).
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir, runInProcess } from '../helpers/codegen.js';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';

const V1 = 'syntax = "proto3";\npackage codegen.diff;\n\nmessage Signup {\n  string id = 1;\n}\n';
const V2 = 'syntax = "proto3";\npackage codegen.diff;\n\nmessage Signup {\n  string id = 1;\n  int64 count = 2;\n}\n';

/** A document whose one channel receives a Protobuf Signup (the .proto in a file of its own). */
function document(address: string, proto: string): string {
  const dir = freshDir('protobuf-diff');
  writeFileSync(path.join(dir, 'signup.proto'), proto);
  const file = path.join(dir, 'asyncapi.json');
  writeFileSync(file, JSON.stringify({
    asyncapi: '3.0.0',
    info: { title: 'signups', version: '1.0.0' },
    channels: { signups: { address, messages: { signup: { payload: { schemaFormat: 'application/vnd.google.protobuf;version=3', schema: { $ref: './signup.proto' } } } } } },
    operations: { receiveSignup: { action: 'receive', channel: { $ref: '#/channels/signups' } } },
  }));
  return file;
}

describe('codegen diff on Protobuf messages', () => {
  it('reports a changed .proto as not compared (a warning), an unchanged one as no change', async () => {
    const changed = await runInProcess(['diff', '--format', 'json', document('signups', V1), document('signups', V2)]);
    expect(changed.code).toBe(0);
    const findings = (JSON.parse(changed.stdout) as { findings: Array<{ ruleId: string; severity: string }> }).findings;
    expect(findings).toEqual([expect.objectContaining({ ruleId: 'MESSAGE_PAYLOAD_NOT_COMPARED', severity: 'warning' })]);
    const same = await runInProcess(['diff', '--format', 'json', document('signups', V1), document('signups', V1)]);
    expect((JSON.parse(same.stdout) as { findings: unknown[] }).findings).toEqual([]);
  });

  it('--against-registry compares the .proto registered under the subject the same way', async () => {
    expect(await registryUp(), `no schema registry at ${REGISTRY_URL}`).toBe(true);
    const address = `codegen-pb-diff-${randomUUID()}`;
    const registered = await fetch(`${REGISTRY_URL}/subjects/${address}-value/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schemaType: 'PROTOBUF', schema: V1 }) });
    expect(registered.status).toBe(200);
    const changed = await runInProcess(['diff', '--against-registry', REGISTRY_URL, '--format', 'json', document(address, V2)]);
    expect(changed.code).toBe(0);
    const findings = (JSON.parse(changed.stdout) as { findings: Array<{ ruleId: string }> }).findings;
    expect(findings.map((f) => f.ruleId)).toEqual(['MESSAGE_PAYLOAD_NOT_COMPARED']);
    const same = await runInProcess(['diff', '--against-registry', REGISTRY_URL, '--format', 'json', document(address, V1)]);
    expect((JSON.parse(same.stdout) as { findings: unknown[] }).findings).toEqual([]);
  });
});
