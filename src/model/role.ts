import { isReservedName } from './names.js';
import type { ApiModel, OperationModel } from './types.js';

/** Whose code is generated: the application the document describes, or a client talking to it. */
export type Role = 'application' | 'client';

const LEADING_VERB = /^(send|receive|publish|subscribe)(?=[A-Z0-9])/;

/**
 * The model seen from the other side of the wire. A document describes one application: what it
 * sends, a client receives, and what it receives, a client sends (requests it answers, a client
 * makes). Operation names that start with the application's verb (`receiveOrder`) lose it, so the
 * client's methods read `publishOrder`, not `publishReceiveOrder`; a name that would then clash
 * keeps its verb (as does one that would become reserved, or start with a digit: `publish0`).
 */
export function asSeenBy(model: ApiModel, role: Role): ApiModel {
  if (role === 'application') return model;
  const taken = new Set(model.operations.map((operation) => operation.name.toLowerCase()));
  const operations = model.operations.map((operation): OperationModel => {
    const action = operation.action === 'send' ? 'receive' : 'send';
    const stripped = lowerFirst(operation.name.replace(LEADING_VERB, ''));
    const keepsVerb = stripped === operation.name || /^[0-9]/.test(stripped) || taken.has(stripped.toLowerCase()) || isReservedName(stripped) || /^validate[A-Z0-9_]/.test(stripped);
    const name = keepsVerb ? operation.name : stripped;
    taken.add(name.toLowerCase());
    return { ...operation, action, name };
  });
  return { ...model, operations };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
