import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadValidatedDocument } from '../../src/pipeline/document.js';
import { buildCoreView } from '../../src/view/core-view.js';
import { freshDir } from '../helpers/codegen.js';

/**
 * `diff` calls a renamed message harmless when its CloudEvents type is pinned with
 * `x-cloudevents-type`: the pin is only real if the generator puts that type on the wire.
 */
const document = (extension: string) => `asyncapi: 3.0.0
info: { title: Orders, version: 1.0.0 }
channels:
  orders:
    address: orders
    messages:
      submitted: { $ref: '#/components/messages/OrderSubmitted' }
operations:
  submit:
    action: send
    channel: { $ref: '#/channels/orders' }
components:
  messages:
    OrderSubmitted:
      name: order.submitted
${extension}      payload: { type: object, properties: { id: { type: string } } }
`;

async function eventType(extension: string): Promise<string | undefined> {
  const file = path.join(freshDir('cloudevents-pin'), 'asyncapi.yaml');
  writeFileSync(file, document(extension));
  const { model } = await loadValidatedDocument(file);
  const literal = buildCoreView(model, '0.0.0').messages.find((m) => m.id === 'OrderSubmitted')?.eventTypeLiteral;
  // The view writes a TypeScript string literal (in prettier's quoting); what matters is its value.
  return literal === undefined ? undefined : (new Function(`return ${literal};`)() as string);
}

describe('the CloudEvents type the generator puts on the wire', () => {
  it('is the message name by default', async () => {
    expect(await eventType('')).toBe('order.submitted');
  });

  it('is the x-cloudevents-type pin when there is one (what diff assumes for a harmless rename)', async () => {
    expect(await eventType('      x-cloudevents-type: order.placed\n')).toBe('order.placed');
  });
});
