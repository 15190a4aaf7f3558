import type { Generator } from '../generators/contract.js';

/**
 * The broker targets. A target is a folder: src/targets/<name>/ (its view and generator) plus
 * templates/<name>/. Adding a broker adds one line here and those two folders; every list of
 * target names (the config's type, its validation, the CLI's help, init) comes from here.
 */
const TARGETS = {
  rabbitmq: async () => (await import('./rabbitmq/index.js')).rabbitmqTarget,
  kafka: async () => (await import('./kafka/index.js')).kafkaTarget,
  nats: async () => (await import('./nats/index.js')).natsTarget,
} satisfies Record<string, () => Promise<Generator>>;

/** A broker target: its code goes to `<out>/<target>/`. */
export type TargetName = keyof typeof TARGETS;

export const TARGET_NAMES = Object.keys(TARGETS) as readonly TargetName[];

export function isTarget(name: string): name is TargetName {
  return Object.prototype.hasOwnProperty.call(TARGETS, name);
}

export async function loadTarget(name: string): Promise<Generator> {
  if (!isTarget(name)) throw new Error(`unknown target "${name}"`);
  return TARGETS[name]();
}
