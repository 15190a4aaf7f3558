import { targetFiles, type Generator } from '../../generators/contract.js';
import { buildRabbitView } from './view.js';

/**
 * The rabbitmq target: a typed client on amqplib (templates/rabbitmq/ → `<out>/rabbitmq/`).
 * Exchanges, queues, routing keys and message properties come from the document's amqp bindings.
 */
export const rabbitmqTarget: Generator = {
  name: 'rabbitmq',
  generate(context) {
    return targetFiles(context, 'rabbitmq', buildRabbitView(context.model, context.view));
  },
};
