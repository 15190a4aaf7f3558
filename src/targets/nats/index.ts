import { renderFolder, type Generator } from '../../generators/contract.js';

/** The nats target (placeholder until the target lands: an index only). */
export const natsTarget: Generator = {
  name: 'nats',
  generate(context) {
    return renderFolder(context, 'nats', 'nats', context.view);
  },
};
