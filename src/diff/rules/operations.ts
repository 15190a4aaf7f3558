import { appendPointer } from '../../load/pointer.js';
import type { OperationModel } from '../../model/types.js';
import { channelName, refOf, type StructureRule } from '../structure/context.js';
import { wireAddress } from '../structure/match.js';

export const OPERATION_REMOVED: StructureRule = {
  id: 'OPERATION_REMOVED',
  kind: 'structure',
  category: 'operation',
  severity: 'breaking',
  purpose: 'An operation was removed: the application stops sending (its consumers starve) or receiving (its producers go unheard).',
  message: (a) => `operation \`${a.id}\` (${a.action} on ${a.channel}) was removed: ${a.effect}`,
  check(ctx) {
    for (const op of ctx.operations.removed) {
      const channel = ctx.channelOf('old', op.channelId);
      ctx.report(OPERATION_REMOVED, {
        args: {
          id: op.id,
          action: op.action,
          channel: channel ? channelName(channel) : `\`${op.channelId}\``,
          effect: op.action === 'send' ? 'consumers waiting for these events no longer get them' : 'events producers send there are no longer handled by this service',
        },
        old: op.origin,
        operations: [refOf(op)],
      });
    }
  },
};

export const OPERATION_ADDED: StructureRule = {
  id: 'OPERATION_ADDED',
  kind: 'structure',
  category: 'operation',
  severity: 'info',
  purpose: 'An operation was added.',
  message: (a) => `operation \`${a.id}\` (${a.action} on ${a.channel}) was added`,
  check(ctx) {
    for (const op of ctx.operations.added) {
      const channel = ctx.channelOf('new', op.channelId);
      ctx.report(OPERATION_ADDED, { args: { id: op.id, action: op.action, channel: channel ? channelName(channel) : `\`${op.channelId}\`` }, new: op.origin, operations: [refOf(op)] });
    }
  },
};

export const OPERATION_RENAMED: StructureRule = {
  id: 'OPERATION_RENAMED',
  kind: 'structure',
  category: 'operation',
  severity: 'info',
  purpose: 'An operation got another key (or operationId) but does the same on the wire: a rename, not a removal plus an addition.',
  message: (a) => `operation \`${a.from}\` was renamed to \`${a.to}\` (same ${a.action} on ${a.channel}); generated method names change`,
  check(ctx) {
    for (const { old, new: next, renamed } of ctx.operations.pairs) {
      if (!renamed) continue;
      const channel = ctx.channelOf('new', next.channelId);
      ctx.report(OPERATION_RENAMED, { args: { from: old.id, to: next.id, action: next.action, channel: channel ? channelName(channel) : `\`${next.channelId}\`` }, old: old.origin, new: next.origin, operations: [refOf(next)] });
    }
  },
};

export const OPERATION_ACTION_CHANGED: StructureRule = {
  id: 'OPERATION_ACTION_CHANGED',
  kind: 'structure',
  category: 'operation',
  severity: 'breaking',
  purpose: 'An operation switched between send and receive.',
  message: (a) => `operation \`${a.id}\` changed from ${a.from} to ${a.to}: the application now ${a.effect}`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      if (old.action === next.action) continue;
      ctx.report(OPERATION_ACTION_CHANGED, {
        args: { id: next.id, from: old.action, to: next.action, effect: next.action === 'send' ? 'sends what it used to receive' : 'receives what it used to send' },
        old: { file: old.origin.file, pointer: appendPointer(old.origin.pointer, 'action') },
        new: { file: next.origin.file, pointer: appendPointer(next.origin.pointer, 'action') },
        operations: [refOf(old), refOf(next)],
      });
    }
  },
};

export const OPERATION_CHANNEL_CHANGED: StructureRule = {
  id: 'OPERATION_CHANNEL_CHANGED',
  kind: 'structure',
  category: 'operation',
  severity: 'breaking',
  purpose: 'An operation moved to another channel (another address).',
  message: (a) => `operation \`${a.id}\` moved from channel ${a.from} to ${a.to}`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      const channelPair = ctx.pairOfOldChannel(old.channelId);
      if (channelPair && channelPair.new.id === next.channelId) continue; // same channel (an address change is CHANNEL_ADDRESS_CHANGED)
      const before = ctx.channelOf('old', old.channelId);
      const after = ctx.channelOf('new', next.channelId);
      if (before && after && wireAddress(before.address) === wireAddress(after.address) && before.address !== null) continue;
      ctx.report(OPERATION_CHANNEL_CHANGED, {
        args: { id: next.id, from: before ? channelName(before) : old.channelId, to: after ? channelName(after) : next.channelId },
        old: { file: old.origin.file, pointer: appendPointer(old.origin.pointer, 'channel') },
        new: { file: next.origin.file, pointer: appendPointer(next.origin.pointer, 'channel') },
        operations: [refOf(next)],
      });
    }
  },
};

export const OPERATION_MESSAGE_ADDED: StructureRule = {
  id: 'OPERATION_MESSAGE_ADDED',
  kind: 'structure',
  category: 'operation',
  severity: 'directional',
  purpose: 'An operation (or its reply) carries one more message: breaking for messages the application sends, since consumers do not expect it.',
  message: (a) => `message ${a.message} was added to ${a.what} \`${a.id}\``,
  consequence: { widens: 'consumers built from the old version do not expect this message' },
  check(ctx) {
    for (const { operation, direction, reply, matched } of ctx.operationMessages) {
      for (const message of matched.added) {
        ctx.report(OPERATION_MESSAGE_ADDED, {
          impact: 'widens',
          args: { message: message.id, what: reply ? 'the reply of operation' : 'operation', id: operation.new.id },
          old: operation.old.origin,
          new: message.origin,
          uses: [{ direction, operations: [refOf(operation.new)] }],
          messageId: message.id,
        });
      }
    }
  },
};

export const OPERATION_MESSAGE_REMOVED: StructureRule = {
  id: 'OPERATION_MESSAGE_REMOVED',
  kind: 'structure',
  category: 'operation',
  severity: 'directional',
  purpose:
    'An operation (or its reply) no longer carries a message. Decided by subsumption: received, it breaks unless a message of the new version accepts every message it carried (producers still send it); sent, it breaks (consumers waiting for it starve, as if the operation were removed).',
  message: (a) => `message ${a.message} was removed from ${a.what} \`${a.id}\`${a.accepted ? `; ${a.accepted} accepts every message it carried` : ''}`,
  consequence: {
    narrows: 'producers built from the old version still send this message, and no message of the new version accepts it',
    both: 'consumers built from the old version wait for this message and no longer get it, as if the operation were removed',
  },
  check(ctx) {
    for (const { operation, direction, reply, matched } of ctx.operationMessages) {
      const remaining = [...matched.pairs.map((p) => p.new), ...matched.added];
      for (const message of matched.removed) {
        const general = direction === 'receive' ? remaining.find((candidate) => ctx.accepts(candidate, message)) : undefined;
        ctx.report(OPERATION_MESSAGE_REMOVED, {
          impact: general ? 'none' : direction === 'receive' ? 'narrows' : 'both',
          args: { message: message.id, what: reply ? 'the reply of operation' : 'operation', id: operation.new.id, accepted: general ? `message ${general.id}` : '' },
          old: message.origin,
          new: general?.origin ?? operation.new.origin,
          uses: [{ direction, operations: [refOf(operation.new)] }],
          messageId: message.id,
        });
      }
    }
  },
};

export const OPERATION_REPLY_REQUIRED: StructureRule = {
  id: 'OPERATION_REPLY_REQUIRED',
  kind: 'structure',
  category: 'operation',
  severity: 'breaking',
  purpose: 'A send operation now expects a reply that existing responders do not send.',
  message: (a) => `operation \`${a.id}\` now expects a reply: existing responders do not send one, so requests will time out`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      if (!old.reply && next.reply && next.action === 'send') ctx.report(OPERATION_REPLY_REQUIRED, { args: { id: next.id }, old: old.origin, new: next.reply.origin, operations: [refOf(next)] });
    }
  },
};

export const OPERATION_REPLY_DROPPED: StructureRule = {
  id: 'OPERATION_REPLY_DROPPED',
  kind: 'structure',
  category: 'operation',
  severity: 'breaking',
  purpose: 'A receive operation no longer replies: requesters waiting for the reply time out.',
  message: (a) => `operation \`${a.id}\` no longer replies: requesters waiting for a reply will time out`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      if (old.reply && !next.reply && next.action === 'receive') ctx.report(OPERATION_REPLY_DROPPED, { args: { id: next.id }, old: old.reply.origin, new: next.origin, operations: [refOf(next)] });
    }
  },
};

export const OPERATION_REPLY_ADDED: StructureRule = {
  id: 'OPERATION_REPLY_ADDED',
  kind: 'structure',
  category: 'operation',
  severity: 'info',
  purpose: 'A receive operation now sends a reply (requesters that do not wait for it are unaffected).',
  message: (a) => `operation \`${a.id}\` now replies`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      if (!old.reply && next.reply && next.action === 'receive') ctx.report(OPERATION_REPLY_ADDED, { args: { id: next.id }, old: old.origin, new: next.reply.origin, operations: [refOf(next)] });
    }
  },
};

export const OPERATION_REPLY_REMOVED: StructureRule = {
  id: 'OPERATION_REPLY_REMOVED',
  kind: 'structure',
  category: 'operation',
  severity: 'warning',
  purpose: 'A send operation no longer waits for a reply; responders keep sending replies nobody reads.',
  message: (a) => `operation \`${a.id}\` no longer waits for a reply; responders still send one`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      if (old.reply && !next.reply && next.action === 'send') ctx.report(OPERATION_REPLY_REMOVED, { args: { id: next.id }, old: old.reply.origin, new: next.origin, operations: [refOf(next)] });
    }
  },
};

export const OPERATION_REPLY_ADDRESS_CHANGED: StructureRule = {
  id: 'OPERATION_REPLY_ADDRESS_CHANGED',
  kind: 'structure',
  category: 'operation',
  severity: 'breaking',
  purpose: 'The address a reply travels on (fixed, or the runtime expression that finds it) changed.',
  message: (a) => `the reply address of operation \`${a.id}\` changed from ${a.from} to ${a.to}`,
  check(ctx) {
    for (const { old, new: next } of ctx.operations.pairs) {
      if (!old.reply || !next.reply) continue;
      const describe = (r: NonNullable<OperationModel['reply']>) => (r.addressLocation ? `\`${r.addressLocation}\`` : r.address === null ? '(dynamic)' : `\`${r.address}\``);
      const key = (r: NonNullable<OperationModel['reply']>) => `${r.addressLocation ?? ''}|${wireAddress(r.address) ?? ''}`;
      if (key(old.reply) !== key(next.reply)) {
        ctx.report(OPERATION_REPLY_ADDRESS_CHANGED, { args: { id: next.id, from: describe(old.reply), to: describe(next.reply) }, old: old.reply.origin, new: next.reply.origin, operations: [refOf(next)] });
      }
    }
  },
};

export const operationRules = [
  OPERATION_REMOVED,
  OPERATION_ADDED,
  OPERATION_RENAMED,
  OPERATION_ACTION_CHANGED,
  OPERATION_CHANNEL_CHANGED,
  OPERATION_MESSAGE_ADDED,
  OPERATION_MESSAGE_REMOVED,
  OPERATION_REPLY_REQUIRED,
  OPERATION_REPLY_DROPPED,
  OPERATION_REPLY_ADDED,
  OPERATION_REPLY_REMOVED,
  OPERATION_REPLY_ADDRESS_CHANGED,
];
