import { renderFolder, type Generator } from '../../generators/contract.js';

/** The rabbitmq target (placeholder until the target lands: an index only). */
export const rabbitmqTarget: Generator = {
  name: 'rabbitmq',
  generate(context) {
    return renderFolder(context, 'rabbitmq', 'rabbitmq', context.view);
  },
};
