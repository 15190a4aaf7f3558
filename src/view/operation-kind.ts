import type { OperationModel } from '../model/types.js';

/**
 * What an operation is to a client method, from the application's side: it sends an event
 * (`publish`), sends and awaits a reply (`request`), receives events (`subscribe`) or answers
 * requests (`respond`). Broker views spread these flags so templates branch on booleans only.
 */
export type OperationKind = 'publish' | 'request' | 'subscribe' | 'respond';

export interface OperationKindFlags {
  kind: OperationKind;
  isPublish: boolean;
  isRequest: boolean;
  isSubscribe: boolean;
  isRespond: boolean;
}

export function operationKindFlags(operation: OperationModel): OperationKindFlags {
  const kind: OperationKind = operation.action === 'send' ? (operation.reply ? 'request' : 'publish') : operation.reply ? 'respond' : 'subscribe';
  return { kind, isPublish: kind === 'publish', isRequest: kind === 'request', isSubscribe: kind === 'subscribe', isRespond: kind === 'respond' };
}
