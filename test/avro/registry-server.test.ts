// The schema registry from scripts/registry.sh (Apicurio Registry's Confluent-compatible API) is
// real: it registers schemas, hands out ids, and refuses an incompatible version.
// A missing registry is a failure (npm test starts one through scripts/with-brokers.mjs).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REGISTRY_URL, registryUp } from '../helpers/registry.js';

const up = await registryUp();
const json = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${REGISTRY_URL}${path}`, { method, headers: json, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

const record = (fields: unknown[]) => JSON.stringify({ type: 'record', name: 'Probe', namespace: 'codegen.test', fields });

describe(`schema registry at ${REGISTRY_URL}`, () => {
  it('registers, looks up by id, and refuses an incompatible version with 409', async () => {
    expect(up, `no schema registry at ${REGISTRY_URL}; run: bash scripts/registry.sh start && bash scripts/registry.sh wait`).toBe(true);
    const subject = `codegen-probe-${randomUUID()}-value`;
    const v1 = record([{ name: 'id', type: 'string' }]);
    const registered = await call('POST', `/subjects/${subject}/versions`, { schema: v1 });
    expect(registered.status).toBe(200);
    expect(typeof registered.body.id).toBe('number');
    const byId = await call('GET', `/schemas/ids/${registered.body.id}`);
    expect(JSON.parse(byId.body.schema)).toEqual(JSON.parse(v1));

    expect((await call('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);
    const compatible = record([{ name: 'id', type: 'string' }, { name: 'note', type: 'string', default: '' }]);
    expect((await call('POST', `/subjects/${subject}/versions`, { schema: compatible })).status).toBe(200);
    const incompatible = record([{ name: 'id', type: 'string' }, { name: 'count', type: 'int' }]);
    const refused = await call('POST', `/subjects/${subject}/versions`, { schema: incompatible });
    expect(refused.status).toBe(409);
    const latest = await call('GET', `/subjects/${subject}/versions/latest`);
    expect(latest.body.version).toBe(2);
    await call('DELETE', `/subjects/${subject}`);
  }, 30_000);
});
