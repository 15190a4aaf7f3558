import type { ApiModel, ChannelModel, MessageModel, OperationModel, ServerModel } from '../../model/types.js';
import { Canonicalizer } from '../schema/canonical.js';
import { nodeOf } from '../schema/node.js';

/** Elements of one kind paired across versions, once, for every rule to use. */
export interface Matched<T> {
  pairs: Array<{ old: T; new: T; /** paired by what is on the wire while their keys differ */ renamed: boolean }>;
  removed: T[];
  added: T[];
}

/**
 * Pairs elements in passes: each pass pairs what its key makes equal among those still unpaired.
 * Earlier passes win, so identity on the wire comes before identity by document key.
 */
export function matchBy<T>(olds: readonly T[], news: readonly T[], passes: Array<{ key: (item: T, side: 'old' | 'new') => string | undefined; renamed: (o: T, n: T) => boolean }>): Matched<T> {
  const oldPaired = new Set<T>();
  const newPaired = new Set<T>();
  const pairs: Matched<T>['pairs'] = [];
  for (const pass of passes) {
    const byKey = new Map<string, T[]>();
    for (const item of news) {
      if (newPaired.has(item)) continue;
      const key = pass.key(item, 'new');
      if (key === undefined) continue;
      const list = byKey.get(key);
      if (list) list.push(item);
      else byKey.set(key, [item]);
    }
    if (byKey.size === 0) continue;
    for (const item of olds) {
      if (oldPaired.has(item)) continue;
      const key = pass.key(item, 'old');
      if (key === undefined) continue;
      const candidates = byKey.get(key);
      if (!candidates || candidates.length === 0) continue;
      const partner = candidates.shift()!;
      oldPaired.add(item);
      newPaired.add(partner);
      pairs.push({ old: item, new: partner, renamed: pass.renamed(item, partner) });
    }
  }
  return { pairs, removed: olds.filter((item) => !oldPaired.has(item)), added: news.filter((item) => !newPaired.has(item)) };
}

/** `orders.{region}.created` → `orders.{}.created`: parameter names are not on the wire. */
export function wireAddress(address: string | null): string | undefined {
  return address === null ? undefined : address.replace(/\{[^}]*\}/g, '{}');
}

export function matchServers(oldModel: ApiModel, newModel: ApiModel): Matched<ServerModel> {
  return matchBy(oldModel.servers, newModel.servers, [
    { key: (s) => `id:${s.id}`, renamed: () => false },
    { key: (s) => `host:${s.protocol}://${s.host}${s.pathname ?? ''}`, renamed: () => true },
  ]);
}

export function matchChannels(oldModel: ApiModel, newModel: ApiModel): Matched<ChannelModel> {
  return matchBy(oldModel.channels, newModel.channels, [
    // Same address (and, for address-less channels, same key).
    { key: (c) => (c.address === null ? `null:${c.id}` : `address:${wireAddress(c.address)}`), renamed: (o, n) => o.id !== n.id },
    // Same key, another address: an address change, reported as such.
    { key: (c) => `id:${c.id}`, renamed: () => false },
  ]);
}

/**
 * Operations pair by what they do on the wire: the channel address, the action and the messages
 * (so a renamed operation is a rename), then by address and action, then by key.
 */
export function matchOperations(oldModel: ApiModel, newModel: ApiModel, messageKey: (m: MessageModel, side: 'old' | 'new') => string): Matched<OperationModel> {
  const channelOf = (model: ApiModel) => new Map(model.channels.map((c) => [c.id, c]));
  const oldChannels = channelOf(oldModel);
  const newChannels = channelOf(newModel);
  const oldMessages = new Map(oldModel.messages.map((m) => [m.id, m]));
  const newMessages = new Map(newModel.messages.map((m) => [m.id, m]));
  const addressCache = new Map<OperationModel, string | undefined>();
  const address = (op: OperationModel, side: 'old' | 'new') => {
    if (addressCache.has(op)) return addressCache.get(op);
    const channel = (side === 'old' ? oldChannels : newChannels).get(op.channelId);
    const key = channel?.address === null || !channel ? `null:${op.channelId}` : wireAddress(channel.address);
    addressCache.set(op, key);
    return key;
  };
  const messageCache = new Map<OperationModel, string>();
  const messages = (op: OperationModel, side: 'old' | 'new') => {
    let key = messageCache.get(op);
    if (key === undefined) {
      key = op.messageIds
        .map((id) => (side === 'old' ? oldMessages : newMessages).get(id))
        .filter((m): m is MessageModel => m !== undefined)
        .map((m) => messageKey(m, side))
        .sort()
        .join(',');
      messageCache.set(op, key);
    }
    return key;
  };
  return matchBy(oldModel.operations, newModel.operations, [
    { key: (op, side) => `${address(op, side)}|${op.action}|${messages(op, side)}|${op.id}`, renamed: () => false },
    { key: (op, side) => `${address(op, side)}|${op.action}|${messages(op, side)}`, renamed: (o, n) => o.id !== n.id },
    { key: (op) => `id:${op.id}|${op.action}`, renamed: () => false },
    { key: (op, side) => `${address(op, side)}|${op.action}`, renamed: (o, n) => o.id !== n.id },
    { key: (op) => `id:${op.id}`, renamed: () => false },
  ]);
}

/**
 * Messages pair within a matched operation or channel: by their wire name (the `name` field, the
 * CloudEvents type), by key, by identical payload, and a single message on each side is the same message.
 */
export function matchMessages(
  olds: readonly MessageModel[],
  news: readonly MessageModel[],
  payloadKey: (m: MessageModel, side: 'old' | 'new') => string,
): Matched<MessageModel> {
  const matched = matchBy(olds, news, [
    { key: (m) => (m.messageName ? `name:${m.messageName}|id:${m.id}` : undefined), renamed: () => false },
    { key: (m) => (m.messageName ? `name:${m.messageName}` : undefined), renamed: (o, n) => o.id !== n.id },
    { key: (m) => `id:${m.id}`, renamed: () => false },
    { key: (m, side) => `payload:${payloadKey(m, side)}`, renamed: (o, n) => o.id !== n.id },
  ]);
  if (matched.removed.length === 1 && matched.added.length === 1) {
    const [o] = matched.removed;
    const [n] = matched.added;
    matched.pairs.push({ old: o!, new: n!, renamed: o!.id !== n!.id });
    matched.removed = [];
    matched.added = [];
  }
  return matched;
}

/** A canonical text per message payload (for pairing by content). */
export function payloadKeys(model: ApiModel): (m: MessageModel) => string {
  const canon = new Canonicalizer();
  const space = { defs: model.schemas, origins: model.schemaOrigins };
  const cache = new Map<string, string>();
  return (m) => {
    let key = cache.get(m.id);
    if (key === undefined) {
      key = m.payloadRaw !== undefined ? `${m.schemaFormat}:${JSON.stringify(m.payloadRaw)}` : canon.of(nodeOf({ $ref: `#/definitions/${m.payloadTypeName}` }, space));
      cache.set(m.id, key);
    }
    return key;
  };
}
