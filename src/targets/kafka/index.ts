import { targetFiles, type Generator } from '../../generators/contract.js';
import { buildKafkaView } from './view.js';

/**
 * The kafka target: a typed client on kafkajs (templates/kafka/ → `<out>/kafka/`).
 * Topics, keys, partitions, replicas and consumer groups come from the document's kafka bindings.
 */
export const kafkaTarget: Generator = {
  name: 'kafka',
  generate(context) {
    return targetFiles(context, 'kafka', buildKafkaView(context.model, context.view));
  },
};
