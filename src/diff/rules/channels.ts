import { appendPointer } from '../../load/pointer.js';
import type { ApiModel, ChannelModel } from '../../model/types.js';
import { channelName, type StructureContext, type StructureRule } from '../structure/context.js';
import { wireAddress } from '../structure/match.js';

export const CHANNEL_REMOVED: StructureRule = {
  id: 'CHANNEL_REMOVED',
  kind: 'structure',
  category: 'channel',
  severity: 'breaking',
  purpose: 'A channel (an address on the wire) was removed.',
  message: (a) => `channel ${a.channel} was removed: applications still publishing or subscribing there are cut off`,
  check(ctx) {
    for (const channel of ctx.channels.removed) {
      ctx.report(CHANNEL_REMOVED, { args: { channel: channelName(channel) }, old: channel.origin, operations: ctx.operationsOn('old', channel.id) });
    }
  },
};

export const CHANNEL_ADDED: StructureRule = {
  id: 'CHANNEL_ADDED',
  kind: 'structure',
  category: 'channel',
  severity: 'info',
  purpose: 'A channel was added.',
  message: (a) => `channel ${a.channel} was added`,
  check(ctx) {
    for (const channel of ctx.channels.added) ctx.report(CHANNEL_ADDED, { args: { channel: channelName(channel) }, new: channel.origin, operations: ctx.operationsOn('new', channel.id) });
  },
};

export const CHANNEL_RENAMED: StructureRule = {
  id: 'CHANNEL_RENAMED',
  kind: 'structure',
  category: 'channel',
  severity: 'info',
  purpose: 'A channel got another key in the document but keeps its address: a rename, not a removal plus an addition.',
  message: (a) => `channel \`${a.from}\` was renamed to \`${a.to}\` (same address ${a.channel})`,
  check(ctx) {
    for (const { old, new: next, renamed } of ctx.channels.pairs) {
      if (renamed) ctx.report(CHANNEL_RENAMED, { args: { from: old.id, to: next.id, channel: channelName(next) }, old: old.origin, new: next.origin, operations: ctx.operationsOn('new', next.id) });
    }
  },
};

export const CHANNEL_ADDRESS_CHANGED: StructureRule = {
  id: 'CHANNEL_ADDRESS_CHANGED',
  kind: 'structure',
  category: 'channel',
  severity: 'breaking',
  purpose: 'A channel kept its key but moved to another address (topic, routing key, subject): producers and consumers of the two versions no longer meet.',
  message: (a) => `channel \`${a.id}\` moved from ${a.from} to ${a.to}: producers and consumers on different versions no longer meet`,
  check(ctx) {
    for (const { old, new: next } of ctx.channels.pairs) {
      if (wireAddress(old.address) === wireAddress(next.address) && (old.address === null) === (next.address === null)) continue;
      ctx.report(CHANNEL_ADDRESS_CHANGED, {
        args: { id: next.id, from: channelName(old), to: channelName(next) },
        old: addressOrigin(ctx.old, old),
        new: addressOrigin(ctx.new, next),
        operations: ctx.operationsOn('new', next.id),
      });
    }
  },
};

export const CHANNEL_PARAMETER_RENAMED: StructureRule = {
  id: 'CHANNEL_PARAMETER_RENAMED',
  kind: 'structure',
  category: 'channel',
  severity: 'info',
  purpose: 'A parameter of the address was renamed at the same position: the wire is unchanged, generated parameter types change.',
  message: (a) => `parameter \`{${a.from}}\` of channel ${a.channel} was renamed to \`{${a.to}}\` (the address on the wire is unchanged)`,
  check(ctx) {
    for (const { old, new: next } of ctx.channels.pairs) {
      if (old.address === null || next.address === null || wireAddress(old.address) !== wireAddress(next.address)) continue;
      const before = placeholders(old.address);
      const after = placeholders(next.address);
      before.forEach((name, i) => {
        if (after[i] !== undefined && after[i] !== name) {
          ctx.report(CHANNEL_PARAMETER_RENAMED, { args: { from: name, to: after[i]!, channel: channelName(next) }, old: addressOrigin(ctx.old, old), new: addressOrigin(ctx.new, next), operations: ctx.operationsOn('new', next.id) });
        }
      });
    }
  },
};

export const CHANNEL_SERVER_REMOVED: StructureRule = {
  id: 'CHANNEL_SERVER_REMOVED',
  kind: 'structure',
  category: 'channel',
  severity: 'warning',
  purpose: 'A channel is no longer available on a server that still exists.',
  message: (a) => `channel ${a.channel} is no longer available on server \`${a.server}\``,
  check(ctx) {
    for (const { old, new: next } of ctx.channels.pairs) {
      const renamed = new Map(ctx.servers.pairs.map((p) => [p.old.id, p.new.id]));
      const before = serversOf(ctx.old, old).map((id) => renamed.get(id)).filter((id): id is string => id !== undefined);
      const after = new Set(serversOf(ctx.new, next));
      const lost = lostProtocols(ctx, old, next);
      for (const server of before) {
        const protocol = ctx.new.servers.find((s) => s.id === server)?.protocol;
        if (protocol !== undefined && lost.includes(protocol)) continue; // CHANNEL_PROTOCOL_CHANGED says it
        if (!after.has(server)) ctx.report(CHANNEL_SERVER_REMOVED, { args: { channel: channelName(next), server }, old: appendServers(old), new: appendServers(next), operations: ctx.operationsOn('new', next.id) });
      }
    }
  },
};

export const CHANNEL_PROTOCOL_CHANGED: StructureRule = {
  id: 'CHANNEL_PROTOCOL_CHANGED',
  kind: 'structure',
  category: 'channel',
  severity: 'breaking',
  purpose: 'A channel moved to servers of another protocol (mqtt to kafka, jms to amqp): clients speaking the old protocol cannot reach it, as with SERVER_PROTOCOL_CHANGED.',
  message: (a) => `channel ${a.channel} is no longer reachable over ${a.from} (now ${a.to}): clients speaking ${a.from} can no longer reach it`,
  check(ctx) {
    for (const { old, new: next } of ctx.channels.pairs) {
      const lost = lostProtocols(ctx, old, next);
      if (lost.length === 0) continue;
      const now = protocolsOf(ctx.new, next);
      ctx.report(CHANNEL_PROTOCOL_CHANGED, {
        args: { channel: channelName(next), from: lost.join(', '), to: now.length > 0 ? now.join(', ') : 'no server' },
        old: appendServers(old),
        new: appendServers(next),
        operations: ctx.operationsOn('new', next.id),
      });
    }
  },
};

export const CHANNEL_SERVER_ADDED: StructureRule = {
  id: 'CHANNEL_SERVER_ADDED',
  kind: 'structure',
  category: 'channel',
  severity: 'info',
  purpose: 'A channel became available on one more server.',
  message: (a) => `channel ${a.channel} is now also available on server \`${a.server}\``,
  check(ctx) {
    for (const { old, new: next } of ctx.channels.pairs) {
      const renamed = new Map(ctx.servers.pairs.map((p) => [p.old.id, p.new.id]));
      const before = new Set(serversOf(ctx.old, old).map((id) => renamed.get(id) ?? `old:${id}`));
      for (const server of serversOf(ctx.new, next)) {
        if (!before.has(server) && ctx.servers.pairs.some((p) => p.new.id === server)) {
          ctx.report(CHANNEL_SERVER_ADDED, { args: { channel: channelName(next), server }, old: appendServers(old), new: appendServers(next) });
        }
      }
    }
  },
};

export const CHANNEL_MESSAGE_ADDED: StructureRule = {
  id: 'CHANNEL_MESSAGE_ADDED',
  kind: 'structure',
  category: 'channel',
  severity: 'directional',
  purpose: 'A message was added to a channel no operation uses (judged FULL: its consumers may not expect it).',
  message: (a) => `message ${a.message} was added to channel ${a.channel}`,
  consequence: { widens: 'consumers of the channel built from the old version do not expect it' },
  check(ctx) {
    for (const { channel, matched } of ctx.channelMessages) {
      for (const message of matched.added) ctx.report(CHANNEL_MESSAGE_ADDED, { impact: 'widens', args: { message: message.id, channel: channelName(channel.new) }, new: message.origin, messageId: message.id });
    }
  },
};

export const CHANNEL_MESSAGE_REMOVED: StructureRule = {
  id: 'CHANNEL_MESSAGE_REMOVED',
  kind: 'structure',
  category: 'channel',
  severity: 'directional',
  purpose: 'A message was removed from a channel no operation uses (judged FULL: its producers may still send it).',
  message: (a) => `message ${a.message} was removed from channel ${a.channel}`,
  consequence: { narrows: 'producers built from the old version still send it' },
  check(ctx) {
    for (const { channel, matched } of ctx.channelMessages) {
      for (const message of matched.removed) ctx.report(CHANNEL_MESSAGE_REMOVED, { impact: 'narrows', args: { message: message.id, channel: channelName(channel.new) }, old: message.origin, messageId: message.id });
    }
  },
};

function placeholders(address: string): string[] {
  return [...address.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
}

/** Servers a channel is available on: its list, or every server when the list is empty. */
function serversOf(model: ApiModel, channel: ChannelModel): string[] {
  return channel.servers.length > 0 ? channel.servers : model.servers.map((s) => s.id);
}

/** The protocols of the servers a channel is available on (none when the document has no server). */
function protocolsOf(model: ApiModel, channel: ChannelModel): string[] {
  const ids = new Set(serversOf(model, channel));
  return [...new Set(model.servers.filter((s) => ids.has(s.id)).map((s) => s.protocol))].sort();
}

/**
 * Protocols a channel was reachable over and no longer is, while it is still on some server. A
 * server that was removed or itself changed protocol is SERVER_REMOVED's or SERVER_PROTOCOL_CHANGED's
 * finding, not the channel's.
 */
function lostProtocols(ctx: StructureContext, oldChannel: ChannelModel, newChannel: ChannelModel): string[] {
  const after = protocolsOf(ctx.new, newChannel);
  if (after.length === 0) return [];
  const kept = new Set(ctx.servers.pairs.filter((p) => p.old.protocol === p.new.protocol).map((p) => p.old.id));
  const ids = new Set(serversOf(ctx.old, oldChannel).filter((id) => kept.has(id)));
  const before = new Set(ctx.old.servers.filter((s) => ids.has(s.id)).map((s) => s.protocol));
  return [...before].filter((protocol) => !after.includes(protocol)).sort();
}

function appendServers(channel: ChannelModel) {
  return { file: channel.origin.file, pointer: appendPointer(channel.origin.pointer, 'servers') };
}

/** 3.x: the `address` field; 2.x: the channel key itself. */
function addressOrigin(model: ApiModel, channel: ChannelModel) {
  return model.asyncapiVersion.startsWith('2.') ? channel.origin : { file: channel.origin.file, pointer: appendPointer(channel.origin.pointer, 'address') };
}

export const channelRules = [
  CHANNEL_REMOVED,
  CHANNEL_ADDED,
  CHANNEL_RENAMED,
  CHANNEL_ADDRESS_CHANGED,
  CHANNEL_PARAMETER_RENAMED,
  CHANNEL_SERVER_REMOVED,
  CHANNEL_PROTOCOL_CHANGED,
  CHANNEL_SERVER_ADDED,
  CHANNEL_MESSAGE_ADDED,
  CHANNEL_MESSAGE_REMOVED,
];

