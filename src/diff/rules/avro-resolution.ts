import type { Change, MessageArgs, Rule } from '../rule.js';
import type { AvscModule, Impact } from '../types.js';

/** What the avsc safety net gets for one message whose payload is Avro in both versions. */
export interface AvroResolutionInput {
  /** The payload schemas as JSON values. */
  oldSchema: unknown;
  newSchema: unknown;
  /** What the finer Avro rules already found for this message. */
  found: readonly Change[];
  avsc: AvscModule;
  container: string;
  report(impact: Impact, args: MessageArgs): void;
}

/** A rule over a whole Avro payload pair, run after the Avro walk (avsc's own resolver). */
export interface AvroResolutionRule<A extends MessageArgs = MessageArgs> extends Rule<A> {
  kind: 'avro-resolution';
  check(input: AvroResolutionInput): void;
}

type AvscType = ReturnType<AvscModule['Type']['forSchema']>;

function resolutionFailure(reader: AvscType, writer: AvscType): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The safety net: avsc's resolver, both ways; reports only what no finer Avro rule explained. */
export const AVRO_RESOLUTION_FAILED: AvroResolutionRule = {
  id: 'AVRO_RESOLUTION_FAILED',
  kind: 'avro-resolution',
  category: 'avro',
  severity: 'directional',
  purpose: "The avsc resolver refuses to read one version's data with the other, for a reason no finer Avro rule reported.",
  message: (a) => `the avsc resolver cannot resolve ${a.subject} of ${a.container} ${a.how} (${a.reason})`,
  check({ oldSchema, newSchema, found, avsc, container, report }) {
    const oldType = avsc.Type.forSchema(oldSchema);
    const newType = avsc.Type.forSchema(newSchema);
    const covered = (impact: 'narrows' | 'widens') => found.some((c) => c.impact === impact || c.impact === 'both');
    const backward = resolutionFailure(newType, oldType);
    const forward = resolutionFailure(oldType, newType);
    const unexplainedBackward = backward !== undefined && !covered('narrows');
    const unexplainedForward = forward !== undefined && !covered('widens');
    const args = (how: string, reason: string) => ({ subject: 'the payload', container, how, reason });
    if (unexplainedBackward && unexplainedForward) report('both', args('either way', backward === forward ? backward! : `${backward}; ${forward}`));
    else if (unexplainedBackward) report('narrows', args('with the new schema reading old data', backward!));
    else if (unexplainedForward) report('widens', args('with the old schema reading new data', forward!));
  },
};
