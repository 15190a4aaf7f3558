import { renderFolder, type Generator } from '../../generators/contract.js';

/** The kafka target (placeholder until the target lands: an index only). */
export const kafkaTarget: Generator = {
  name: 'kafka',
  generate(context) {
    return renderFolder(context, 'kafka', 'kafka', context.view);
  },
};
