import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asSeenBy } from '../../src/model/role.js';
import { loadValidatedDocument } from '../../src/pipeline/document.js';
import type { ApiModel } from '../../src/model/types.js';
import { FIXTURES } from '../helpers/codegen.js';

/**
 * The parts of the model that depend on how the document is written rather than on the API:
 * where things are (origins), the spec version, and channel ids (3.x keys, 2.x addresses; the model
 * identifies channels by address, so operations are compared by their channel's address).
 */
function comparable(model: ApiModel): unknown {
  const plain = JSON.parse(JSON.stringify(model, (key, value) => (key === 'origin' || key === 'schemaOrigins' || key === 'payloadOrigin' || key === 'asyncapiVersion' ? undefined : value))) as ApiModel;
  const addressOf = new Map(plain.channels.map((c) => [c.id, c.address]));
  return {
    ...plain,
    channels: plain.channels.map(({ id: _id, name: _name, ...rest }) => rest),
    operations: plain.operations.map((o) => ({ ...o, channelId: addressOf.get(o.channelId) })),
  };
}

describe('the intermediate model', () => {
  it('is the same for one API written in AsyncAPI 2.6 and in 3.0', async () => {
    const v3 = (await loadValidatedDocument(path.join(FIXTURES, 'orders/orders-3.0.yaml'))).model;
    const v2 = (await loadValidatedDocument(path.join(FIXTURES, 'orders/orders-2.6.yaml'))).model;
    expect(v3.asyncapiVersion).toBe('3.0.0');
    expect(v2.asyncapiVersion).toBe('2.6.0');
    expect(comparable(v2)).toEqual(comparable(v3));
    // 2.x `subscribe` = the application sends; `publish` = it receives.
    expect(v2.operations.map((o) => [o.id, o.action])).toEqual([['placeOrder', 'send'], ['onOrderCancelled', 'receive']]);
  });

  it('gives the public 2.6 and 3.0 streetlights examples the same operations, messages and payload types', async () => {
    const v3 = (await loadValidatedDocument(path.join(FIXTURES, 'spec/3.0/streetlights-kafka-asyncapi.yml'))).model;
    const v2 = (await loadValidatedDocument(path.join(FIXTURES, 'spec/2.6/streetlights-kafka.yml'))).model;
    const summary = (m: ApiModel) => m.operations.map((o) => ({ action: o.action, address: m.channels.find((c) => c.id === o.channelId)!.address!.replace(/\//g, '.') })).sort((a, b) => (a.address < b.address ? -1 : 1));
    expect(summary(v2).map((o) => o.action).sort()).toEqual(summary(v3).map((o) => o.action).sort());
    expect(Object.keys(v2.schemas).filter((n) => n.endsWith('Payload')).sort()).toEqual(Object.keys(v3.schemas).filter((n) => n.endsWith('Payload')).sort());
  });

  it('names types from the document, stably, and shares parameter sets', async () => {
    const first = (await loadValidatedDocument(path.join(FIXTURES, 'example/asyncapi.yaml'))).model;
    const second = (await loadValidatedDocument(path.join(FIXTURES, 'example/asyncapi.yaml'))).model;
    expect(Object.keys(first.schemas)).toEqual(Object.keys(second.schemas));
    expect(Object.keys(first.schemas)).toEqual(expect.arrayContaining(['Order', 'OrderItem', 'Address', 'Note', 'OrderHeaders', 'RegionParameters', 'OrderShippedPayload']));
    const withRegion = first.channels.filter((c) => c.parameters.some((p) => p.name === 'region'));
    expect(new Set(withRegion.map((c) => c.parametersTypeName))).toEqual(new Set(['RegionParameters']));
    // Recursion stays a reference, so the type is finite.
    expect(JSON.stringify(first.schemas.Note)).toContain('#/definitions/Note');
  });
});

describe('the model seen by a client', () => {
  it('keeps the verb of an operation name that would otherwise start with a digit (no identifier)', () => {
    const model = { operations: [{ name: 'publish0', action: 'send' }, { name: 'receiveOrder', action: 'receive' }] } as unknown as ApiModel;
    expect(asSeenBy(model, 'client').operations.map((o) => o.name)).toEqual(['publish0', 'order']);
  });
});
