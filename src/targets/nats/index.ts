import { targetFiles, type Generator } from '../../generators/contract.js';
import { buildNatsView } from './view.js';

/**
 * The NATS target: a typed client over @nats-io/transport-node and @nats-io/jetstream (v3).
 * Writes `nats/client.ts` (one method per operation) and `nats/index.ts`; the NATS run-time it uses is
 * copied from `runtime/nats/` (transport, connection, publisher, consumer, replies, topology, message).
 */
export const natsTarget: Generator = {
  name: 'nats',
  generate(context) {
    return targetFiles(context, 'nats', buildNatsView(context.model, context.view));
  },
};
