import type { ApiModel, ChannelModel, MessageModel, OperationModel, Origin, ServerModel } from '../../model/types.js';
import type { Change, MessageArgs, Rule, Use } from '../rule.js';
import type { Direction, Impact, OperationRef } from '../types.js';
import { matchChannels, matchMessages, matchOperations, matchServers, payloadKeys, type Matched } from './match.js';

/** A rule over the matched document elements (servers, channels, operations, messages, bindings). */
export interface StructureRule<A extends MessageArgs = MessageArgs> extends Rule<A> {
  kind: 'structure';
  check(context: StructureContext): void;
}

export type Pair<T> = Matched<T>['pairs'][number];

/** A message paired across versions, with every way the application uses it. */
export interface MessagePair {
  old: MessageModel;
  new: MessageModel;
  renamed: boolean;
  uses: Use[];
  /** The channel pair the message was found on (for bindings and locations). */
  channel?: Pair<ChannelModel>;
}

/** Messages of a matched operation (or of its reply), paired. */
export interface OperationMessages {
  operation: Pair<OperationModel>;
  /** The direction its messages travel: the action, reversed for a reply. */
  direction: Direction;
  reply: boolean;
  matched: Matched<MessageModel>;
}

export interface ReportInput {
  impact?: Impact;
  args?: Record<string, string>;
  old?: Origin;
  new?: Origin;
  uses?: Use[];
  /** Shortcut for `uses`: operations affected, in no particular direction. */
  operations?: OperationRef[];
  messageId?: string;
}

/**
 * The two models with their elements paired once (servers, channels, operations, messages),
 * as buf's breaking helpers do, so each structure rule is a short function over matched pairs.
 */
export class StructureContext {
  readonly servers: Matched<ServerModel>;
  readonly channels: Matched<ChannelModel>;
  readonly operations: Matched<OperationModel>;
  readonly operationMessages: OperationMessages[] = [];
  /** Messages of channels that no operation uses in either version, paired. */
  readonly channelMessages: Array<{ channel: Pair<ChannelModel>; matched: Matched<MessageModel> }> = [];
  readonly messages: MessagePair[] = [];
  private readonly oldMessages: Map<string, MessageModel>;
  private readonly newMessages: Map<string, MessageModel>;
  private readonly oldChannels: Map<string, ChannelModel>;
  private readonly newChannels: Map<string, ChannelModel>;
  private readonly channelPairByNew = new Map<string, Pair<ChannelModel>>();
  private readonly channelPairByOld = new Map<string, Pair<ChannelModel>>();

  readonly new: ApiModel;

  constructor(
    readonly old: ApiModel,
    next: ApiModel,
    private readonly sink: (change: Change) => void,
    /** Subsumption: every message valid under `specific` (old) is valid under `general` (new). */
    readonly accepts: (general: MessageModel, specific: MessageModel) => boolean = () => false,
  ) {
    this.new = next;
    this.oldMessages = new Map(old.messages.map((m) => [m.id, m]));
    this.newMessages = new Map(this.new.messages.map((m) => [m.id, m]));
    this.oldChannels = new Map(old.channels.map((c) => [c.id, c]));
    this.newChannels = new Map(this.new.channels.map((c) => [c.id, c]));
    const oldPayload = payloadKeys(old);
    const newPayload = payloadKeys(this.new);
    const payloadKey = (m: MessageModel, side: 'old' | 'new') => (side === 'old' ? oldPayload(m) : newPayload(m));
    const wireKey = (m: MessageModel, side: 'old' | 'new') => (m.messageName ? `name:${m.messageName}` : `payload:${payloadKey(m, side)}`);
    this.servers = matchServers(old, this.new);
    this.channels = matchChannels(old, this.new);
    for (const pair of this.channels.pairs) {
      this.channelPairByNew.set(pair.new.id, pair);
      this.channelPairByOld.set(pair.old.id, pair);
    }
    this.operations = matchOperations(old, this.new, wireKey);

    const byKey = new Map<string, MessagePair>();
    const addUse = (pair: Pair<MessageModel>, direction: Direction, operation: OperationRef | undefined, channel: Pair<ChannelModel> | undefined) => {
      const key = `${pair.old.id}\u0000${pair.new.id}`;
      let entry = byKey.get(key);
      if (!entry) {
        entry = { old: pair.old, new: pair.new, renamed: pair.renamed, uses: [], channel };
        byKey.set(key, entry);
        this.messages.push(entry);
      }
      let use = entry.uses.find((u) => u.direction === direction);
      if (!use) entry.uses.push((use = { direction, operations: [] }));
      if (operation && !use.operations.some((o) => o.id === operation.id && o.action === operation.action)) use.operations.push(operation);
    };

    for (const operation of this.operations.pairs) {
      const direction: Direction = operation.old.action === operation.new.action ? operation.new.action : 'unspecified';
      const ref = refOf(operation.new);
      const channel = this.channelPairByNew.get(operation.new.channelId);
      const matched = matchMessages(this.messagesOf(operation.old.messageIds, 'old'), this.messagesOf(operation.new.messageIds, 'new'), payloadKey);
      this.operationMessages.push({ operation, direction, reply: false, matched });
      for (const pair of matched.pairs) addUse(pair, direction, ref, channel);
      if (operation.old.reply && operation.new.reply) {
        const replyDirection: Direction = direction === 'send' ? 'receive' : direction === 'receive' ? 'send' : 'unspecified';
        const replyMatched = matchMessages(this.messagesOf(operation.old.reply.messageIds, 'old'), this.messagesOf(operation.new.reply.messageIds, 'new'), payloadKey);
        this.operationMessages.push({ operation, direction: replyDirection, reply: true, matched: replyMatched });
        const replyChannel = operation.new.reply.channelId ? this.channelPairByNew.get(operation.new.reply.channelId) : undefined;
        for (const pair of replyMatched.pairs) addUse(pair, replyDirection, ref, replyChannel);
      }
    }

    // Channels no operation uses (in either version): their messages are judged FULL.
    const used = (model: ApiModel) => new Set(model.operations.flatMap((op) => [op.channelId, ...(op.reply?.channelId ? [op.reply.channelId] : [])]));
    const oldUsed = used(old);
    const newUsed = used(this.new);
    for (const channel of this.channels.pairs) {
      const matched = matchMessages(this.messagesOf(channel.old.messageIds, 'old'), this.messagesOf(channel.new.messageIds, 'new'), payloadKey);
      if (!oldUsed.has(channel.old.id) && !newUsed.has(channel.new.id)) {
        this.channelMessages.push({ channel, matched });
        for (const pair of matched.pairs) addUse(pair, 'unspecified', undefined, channel);
      } else {
        // Messages of a used channel that no matched operation carries (e.g. operations removed):
        // still compared, with the directions of the channel's operations.
        for (const pair of matched.pairs) {
          const key = `${pair.old.id}\u0000${pair.new.id}`;
          if (byKey.has(key)) continue;
          for (const use of this.channelUses(channel)) {
            if (use.operations.length === 0) addUse(pair, use.direction, undefined, channel);
            for (const op of use.operations) addUse(pair, use.direction, op, channel);
          }
        }
      }
    }
  }

  /** Uses of a channel pair: the operations on it in the new version (or the old one), by direction. */
  channelUses(channel: Pair<ChannelModel>): Use[] {
    const uses: Use[] = [];
    const collect = (side: 'old' | 'new', channelId: string) => {
      for (const op of this.operationsByChannel(side).get(channelId) ?? []) {
        let use = uses.find((u) => u.direction === op.action);
        if (!use) uses.push((use = { direction: op.action, operations: [] }));
        if (!use.operations.some((o) => o.id === op.id)) use.operations.push(refOf(op));
      }
    };
    collect('new', channel.new.id);
    if (uses.length === 0) collect('old', channel.old.id);
    return uses.length > 0 ? uses : [{ direction: 'unspecified', operations: [] }];
  }

  /** Operations on a channel (by channel id) in one version. */
  operationsOn(side: 'old' | 'new', channelId: string): OperationRef[] {
    return (this.operationsByChannel(side).get(channelId) ?? []).map(refOf);
  }

  private readonly byChannel = new Map<'old' | 'new', Map<string, OperationModel[]>>();

  private operationsByChannel(side: 'old' | 'new'): Map<string, OperationModel[]> {
    let map = this.byChannel.get(side);
    if (!map) {
      map = new Map();
      for (const op of (side === 'old' ? this.old : this.new).operations) {
        const list = map.get(op.channelId);
        if (list) list.push(op);
        else map.set(op.channelId, [op]);
      }
      this.byChannel.set(side, map);
    }
    return map;
  }

  channelOf(side: 'old' | 'new', channelId: string): ChannelModel | undefined {
    return (side === 'old' ? this.oldChannels : this.newChannels).get(channelId);
  }

  pairOfOldChannel(channelId: string): Pair<ChannelModel> | undefined {
    return this.channelPairByOld.get(channelId);
  }

  messagesOf(ids: readonly string[], side: 'old' | 'new'): MessageModel[] {
    const map = side === 'old' ? this.oldMessages : this.newMessages;
    return ids.map((id) => map.get(id)).filter((m): m is MessageModel => m !== undefined);
  }

  report(rule: Rule, input: ReportInput = {}): void {
    this.sink({
      rule,
      impact: input.impact ?? 'none',
      text: rule.message(input.args ?? {}),
      old: input.old,
      new: input.new,
      uses: input.uses ?? (input.operations && input.operations.length > 0 ? usesOf(input.operations) : []),
      messageId: input.messageId,
    });
  }
}

export function refOf(op: OperationModel): OperationRef {
  return { id: op.id, action: op.action };
}

/** Operations grouped by their action. */
export function usesOf(operations: OperationRef[]): Use[] {
  const uses: Use[] = [];
  for (const op of operations) {
    let use = uses.find((u) => u.direction === op.action);
    if (!use) uses.push((use = { direction: op.action, operations: [] }));
    use.operations.push(op);
  }
  return uses;
}

/** "`orders.{region}.created`", or the channel key when the address is dynamic. */
export function channelName(channel: ChannelModel): string {
  return channel.address === null ? `\`${channel.id}\` (dynamic address)` : `\`${channel.address}\``;
}

/** How a message is named in sentences. */
export function messageName(message: MessageModel): string {
  return message.id;
}
