import type { HeaderMapping } from './envelope.js';
import type { OperationSpec } from './operation.js';
import type { OutboundSpec } from './producer.js';

/**
 * The producer-side specs of a client's operations, one per operation and CloudEvents type: made on
 * the first event of that type and reused for every later one (publishing is the hot path).
 */
export class OutboundSpecs {
  private readonly byOperation = new WeakMap<object, Map<string, OutboundSpec<unknown, unknown>>>();

  constructor(private readonly mapping: HeaderMapping) {}

  of<T, H>(spec: OperationSpec<T, H, unknown>, type: string): OutboundSpec<T, H> {
    let byType = this.byOperation.get(spec);
    if (!byType) this.byOperation.set(spec, (byType = new Map()));
    let outboundSpec = byType.get(type);
    if (!outboundSpec) {
      outboundSpec = {
        operation: spec.operation,
        type,
        contentType: spec.contentType,
        mapping: this.mapping,
        validatePayload: (data) => spec.validatePayload(data),
        validateHeaders: (data) => spec.validateHeaders(data),
      };
      byType.set(type, outboundSpec);
    }
    return outboundSpec as OutboundSpec<T, H>;
  }
}
