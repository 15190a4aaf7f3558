import type { Generator } from '../generators/contract.js';

/**
 * The broker targets. A target is a folder: src/targets/<name>/ (its view and generator) plus
 * templates/<name>/. Adding a broker adds one line here and those two folders.
 */
const TARGETS: Record<string, () => Promise<Generator>> = {
  rabbitmq: async () => (await import('./rabbitmq/index.js')).rabbitmqTarget,
  kafka: async () => (await import('./kafka/index.js')).kafkaTarget,
  nats: async () => (await import('./nats/index.js')).natsTarget,
};

export const TARGET_NAMES = Object.keys(TARGETS);

export function isTarget(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(TARGETS, name);
}

export async function loadTarget(name: string): Promise<Generator> {
  return TARGETS[name]!();
}
