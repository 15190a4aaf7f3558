// OpenTelemetry traces and metrics for every broker, through @opentelemetry/api when the application
// has it installed. The API is loaded at run time by name, so this code compiles and runs without it:
// when it is absent every call below is a no-op and nothing is imported.
//
// Names follow the OpenTelemetry semantic conventions for messaging (attributes and metrics of
// semconv 1.27 and later; span names `<destination> publish` / `<destination> process`). With the API
// installed but no SDK registered (no tracer provider, no meter provider), no span is started, no
// attribute built, no context switched and no metric recorded: a publish or a process costs two
// look-ups of the global providers. A span that is not sampled costs its start only.
import type { CloudEventAttributes } from './envelope.js';
import { isTraceparent } from './envelope.js';
import { errorMessage } from './errors.js';

type AttributeValue = string | number | boolean;
type Attributes = Record<string, AttributeValue>;

/** The subset of @opentelemetry/api used here, declared locally so the package stays optional. */
interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: { serialize(): string };
}
interface SpanLike {
  setAttribute(key: string, value: AttributeValue): unknown;
  setAttributes(attributes: Attributes): unknown;
  addEvent(name: string, attributes?: Attributes): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: unknown): unknown;
  spanContext(): SpanContextLike;
  isRecording(): boolean;
  end(): void;
}
interface SpanOptionsLike {
  kind: number;
  attributes?: Attributes;
  links?: Array<{ context: SpanContextLike }>;
}
interface TracerLike {
  startSpan(name: string, options: SpanOptionsLike, context?: unknown): SpanLike;
}
interface TracerProviderLike {
  getTracer(name: string, version?: string): TracerLike;
}
interface CounterLike {
  add(value: number, attributes?: Attributes): void;
}
interface HistogramLike {
  record(value: number, attributes?: Attributes): void;
}
interface InstrumentOptionsLike {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}
interface MeterLike {
  createCounter(name: string, options?: InstrumentOptionsLike): CounterLike;
  createHistogram(name: string, options?: InstrumentOptionsLike): HistogramLike;
}
interface MeterProviderLike {
  getMeter(name: string, version?: string): MeterLike;
}
interface OtelApi {
  trace: {
    getTracerProvider(): TracerProviderLike;
    setSpan(context: unknown, span: SpanLike): unknown;
    setSpanContext(context: unknown, spanContext: SpanContextLike): unknown;
    getSpan(context: unknown): SpanLike | undefined;
  };
  context: { active(): unknown; with<R>(context: unknown, fn: () => R): R };
  metrics: { getMeterProvider(): MeterProviderLike };
  ROOT_CONTEXT: unknown;
  createTraceState?(serialized: string): { serialize(): string };
  /** The no-op meter (API ≥ 1.4): its instruments are what a meter provider gives when none is registered. */
  createNoopMeter?(): MeterLike;
  /** The global tracer provider's class: a fresh one delegates to the API's no-op provider. */
  ProxyTracerProvider?: new () => { getDelegate?(): unknown };
}

const SPAN_KIND_CLIENT = 2;
const SPAN_KIND_PRODUCER = 3;
const SPAN_KIND_CONSUMER = 4;
const STATUS_ERROR = 2;
/** Instrumentation scope of the tracer and meter. */
const INSTRUMENTATION = '@codegen/messaging';
/** Bucket boundaries the conventions advise for the messaging duration histograms (seconds). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

let loading: Promise<OtelApi | undefined> | undefined;

/** @opentelemetry/api if the application has it, else undefined. Loaded once. */
export function loadOpenTelemetry(): Promise<OtelApi | undefined> {
  // A variable specifier keeps TypeScript and bundlers from requiring the package at build time.
  const specifier = '@opentelemetry/api';
  loading ??= import(specifier).then(
    (module: { default?: OtelApi } & OtelApi) => (module.trace ? module : module.default),
    () => undefined,
  );
  return loading;
}

export type MessagingSystem = 'rabbitmq' | 'kafka' | 'nats' | 'mqtt';

export interface TelemetryOptions {
  /** `false` turns tracing and metrics off even when @opentelemetry/api is installed. */
  enabled?: boolean;
}

/**
 * Attributes a broker adds to its spans: `messaging.rabbitmq.destination.routing_key`,
 * `messaging.kafka.message.key`, `messaging.destination.partition.id`, `messaging.consumer.group.name`,
 * or `messaging.destination.name` to name the concrete destination (a NATS subject) when the span name
 * uses a low-cardinality one (the subject filter). Undefined values are left out.
 */
export type MessagingAttributes = Record<string, AttributeValue | undefined>;

/** Attributes, or a function building them: called only when a span records or metrics are on. */
export type LazyAttributes = MessagingAttributes | (() => MessagingAttributes);

/** The W3C trace context an event carries (CloudEvents `traceparent` and `tracestate` extensions). */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** A failed handler attempt that will be tried again. */
export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: unknown;
  /** True when the broker delivers the event again (a new process span), false when retried in process. */
  redelivery?: boolean;
}

/** An event given up on: sent to the dead-letter destination (or dropped when there is none). */
export interface DeadLetterInfo {
  /** The DeadLetterReason: `handler-failed`, `invalid-payload`, `invalid-headers`, `invalid-envelope`, `not-json`, `invalid-address`, `too-large`. */
  reason: string;
  error: string;
  attempts: number;
  /** The handler's last exception, when a handler failed. */
  exception?: unknown;
}

/**
 * The CONSUMER span of one received event. The shared ConsumerPipeline records retries, duplicates,
 * validation failures and dead-lettering on it; brokers only call `deadLetter` for what they reject
 * before the pipeline runs (an address that does not match the channel).
 */
export interface ProcessSpan {
  /** A span event (counted when it is one of the pipeline's: messaging.retry, .dead_letter, .duplicate, .invalid). */
  event(name: string, attributes?: MessagingAttributes): void;
  /** The processing failed: exception recorded, status ERROR, `error.type` set. */
  fail(error: unknown): void;
  /** Trace id of the span, for logs; undefined when the event is not traced. */
  readonly traceId: string | undefined;
  /** A failed attempt that will be retried: `exception` and `messaging.retry` events. */
  retry(info: RetryInfo): void;
  /** The event is dead-lettered: `messaging.invalid` (for invalid events) and `messaging.dead_letter` events, status ERROR. */
  deadLetter(info: DeadLetterInfo): void;
  /** The event was processed before (same id): `messaging.duplicate` event, the handler did not run. */
  duplicate(): void;
}

const NO_TRACE: TraceContext = Object.freeze({});
const noop = () => undefined;
const NO_SPAN: ProcessSpan = Object.freeze({
  event: noop,
  fail: noop,
  traceId: undefined,
  retry: noop,
  deadLetter: noop,
  duplicate: noop,
});

/** The instruments of one meter, created once. */
class Instruments {
  readonly sent: CounterLike;
  readonly consumed: CounterLike;
  readonly operationDuration: HistogramLike;
  readonly processDuration: HistogramLike;
  readonly retried: CounterLike;
  readonly deadLettered: CounterLike;
  readonly deduplicated: CounterLike;
  readonly invalid: CounterLike;
  readonly redriven: CounterLike;
  readonly discarded: CounterLike;
  /** Metric attributes by destination and operation (low cardinality by construction). */
  readonly attributeSets = new Map<string, Attributes>();

  constructor(meter: MeterLike) {
    const counter = (name: string, description: string) =>
      meter.createCounter(name, { unit: '{message}', description });
    const histogram = (name: string, description: string) =>
      meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
    this.sent = counter(
      'messaging.client.sent.messages',
      'Number of messages the producer attempted to send to the broker.',
    );
    this.consumed = counter(
      'messaging.client.consumed.messages',
      'Number of messages delivered to the application (error.type set when processing failed).',
    );
    this.operationDuration = histogram(
      'messaging.client.operation.duration',
      'Duration of a publish, until the broker confirmed it (or the reply arrived, for a request).',
    );
    this.processDuration = histogram(
      'messaging.process.duration',
      'Duration of the processing of a received message: decoding, validation, the handler and its retries.',
    );
    this.retried = counter('codegen.messaging.retried.messages', 'Failed handler attempts that are tried again.');
    this.deadLettered = counter(
      'codegen.messaging.dead_lettered.messages',
      'Messages given up on and sent to the dead-letter destination.',
    );
    this.deduplicated = counter(
      'codegen.messaging.deduplicated.messages',
      'Messages skipped because an event with the same id was processed before.',
    );
    this.invalid = counter(
      'codegen.messaging.invalid.messages',
      'Messages that failed validation (envelope, JSON, headers, payload or address).',
    );
    this.redriven = counter(
      'codegen.messaging.redriven.messages',
      'Dead letters republished to where they failed (confirmed), then removed from the dead-letter destination.',
    );
    this.discarded = counter('codegen.messaging.discarded.messages', 'Dead letters removed for good, with a reason.');
  }
}

/** Attributes of consumer spans that also go on metrics (all of low cardinality). */
const METRIC_ATTRIBUTES = [
  'messaging.consumer.group.name',
  'messaging.destination.subscription.name',
  'messaging.destination.template',
  'messaging.destination.partition.id',
];
const MAX_ATTRIBUTE_SETS = 1000;

/**
 * Traces and metrics named per the OpenTelemetry semantic conventions for messaging. One instance
 * per client; create it with `Telemetry.create(system, options)`.
 */
export class Telemetry {
  private tracerProvider: TracerProviderLike | undefined;
  private cachedTracer: TracerLike | undefined;
  private meterProvider: MeterProviderLike | undefined;
  private cachedInstruments: Instruments | undefined;
  /** The no-op meter of the API, to tell "no meter provider registered" apart. */
  private readonly noopMeter: MeterLike | undefined;
  /** The no-op tracer provider of the API, to tell "no tracer provider registered" apart. */
  private readonly noopTracerProvider: unknown;

  private constructor(
    private readonly system: MessagingSystem,
    private readonly api: OtelApi | undefined,
  ) {
    this.noopMeter = api?.createNoopMeter?.();
    try {
      this.noopTracerProvider = api?.ProxyTracerProvider ? new api.ProxyTracerProvider().getDelegate?.() : undefined;
    } catch {
      this.noopTracerProvider = undefined;
    }
  }

  static async create(system: MessagingSystem, options: TelemetryOptions = {}): Promise<Telemetry> {
    const api = options.enabled === false ? undefined : await loadOpenTelemetry();
    return new Telemetry(system, api);
  }

  /** A telemetry that records nothing (for clients created without it). */
  static disabled(system: MessagingSystem): Telemetry {
    return new Telemetry(system, undefined);
  }

  /**
   * True when spans or metrics can be recorded now: @opentelemetry/api is loaded and a tracer or a
   * meter provider is registered. Brokers skip all telemetry work (attributes, closures) when false, so
   * the API installed without an SDK costs two look-ups per publish or received event.
   */
  get active(): boolean {
    const api = this.api;
    return api !== undefined && (this.instruments(api) !== undefined || !this.tracingOff(api));
  }

  /**
   * Runs a publish inside a PRODUCER span `<destination> publish`. `send` receives the trace context
   * to put in the envelope: the span's own, so consumers become its children. `destination` must be of
   * low cardinality (a topic, an exchange, a subject filter): it names the span and goes on metrics.
   */
  publish<R>(
    destination: string,
    envelope: { id: string; correlationId?: string },
    attributes: LazyAttributes,
    send: (trace: TraceContext) => Promise<R>,
  ): Promise<R> {
    const api = this.api;
    if (!api) return call(send, NO_TRACE);
    const metrics = this.instruments(api);
    if (!metrics && this.tracingOff(api)) return call(send, NO_TRACE);
    const span = this.tracer(api).startSpan(
      `${destination} publish`,
      { kind: SPAN_KIND_PRODUCER, attributes: this.startAttributes(destination, 'publish', 'send') },
      api.context.active(),
    );
    if (span.isRecording()) return this.publishRecorded(api, span, metrics, destination, envelope, attributes, send);
    // Not sampled, or no SDK: no span work. A valid context (a sampled-out span, or the caller's span
    // passed through by the API without an SDK) still travels with the event.
    const context = span.spanContext();
    const trace = isValidContext(context) ? traceContextOf(context) : NO_TRACE;
    return metrics ? this.publishMeasured(metrics, destination, () => send(trace)) : call(send, trace);
  }

  /**
   * Runs the handling of one received event inside a CONSUMER span `<destination> process` whose parent
   * is the trace context the event carries, linked to it as well (a garbage `traceparent` starts a new
   * trace). `handle` gets the span to record retries, duplicates and dead-lettering on.
   */
  process<R>(
    destination: string,
    envelope: Partial<CloudEventAttributes> | undefined,
    attributes: LazyAttributes,
    handle: (span: ProcessSpan) => Promise<R>,
  ): Promise<R> {
    const api = this.api;
    if (!api) return call(handle, NO_SPAN);
    const metrics = this.instruments(api);
    if (!metrics && this.tracingOff(api)) return call(handle, NO_SPAN);
    const remote = remoteContextOf(api, envelope);
    const parent = remote ? api.trace.setSpanContext(api.ROOT_CONTEXT, remote) : api.ROOT_CONTEXT;
    const span = this.tracer(api).startSpan(
      `${destination} process`,
      {
        kind: SPAN_KIND_CONSUMER,
        attributes: this.startAttributes(destination, 'process', 'process'),
        links: remote ? [{ context: remote }] : undefined,
      },
      parent,
    );
    const recording = span.isRecording();
    if (!recording && !metrics) return call(handle, NO_SPAN);
    return this.processRecorded(api, span, recording, parent, metrics, destination, envelope, attributes, handle);
  }

  /**
   * Runs a call on a dead-letter destination (`inspect`, `redrive`, `discard`) in a CLIENT span
   * `<destination> <call>`. `work` fills in counts (`inspected`, `redriven`, `invalid`, `discarded`):
   * they become `codegen.dead_letters.<count>` span attributes, and redriven and discarded ones are
   * counted on their metrics; the call's duration goes on `messaging.client.operation.duration`.
   */
  async deadLetters<R>(
    destination: string,
    call: 'inspect' | 'redrive' | 'discard',
    operation: string,
    work: (counts: Record<string, number>) => Promise<R>,
  ): Promise<R> {
    const counts: Record<string, number> = {};
    const api = this.api;
    if (!api) return work(counts);
    const metrics = this.instruments(api);
    if (!metrics && this.tracingOff(api)) return work(counts);
    const type = call === 'inspect' ? 'receive' : call === 'redrive' ? 'send' : 'settle';
    const base = { ...this.startAttributes(destination, call, type), 'codegen.operation': operation };
    const span = this.tracer(api).startSpan(
      `${destination} ${call}`,
      { kind: SPAN_KIND_CLIENT, attributes: base },
      api.context.active(),
    );
    const started = performance.now();
    let failure: string | undefined;
    try {
      return await api.context.with(api.trace.setSpan(api.context.active(), span), () => work(counts));
    } catch (error) {
      failure = failSpan(span, error);
      throw error;
    } finally {
      for (const [name, value] of Object.entries(counts)) span.setAttribute(`codegen.dead_letters.${name}`, value);
      span.end();
      if (metrics) {
        const attributes = failure === undefined ? base : { ...base, 'error.type': failure };
        if (counts.redriven) metrics.redriven.add(counts.redriven, attributes);
        if (counts.discarded) metrics.discarded.add(counts.discarded, attributes);
        metrics.operationDuration.record((performance.now() - started) / 1000, attributes);
      }
    }
  }

  /** The trace context of the span active now (to continue a trace across a request and its reply). */
  currentTraceContext(): TraceContext {
    const api = this.api;
    const span = api?.trace.getSpan(api.context.active());
    if (!span) return NO_TRACE;
    const context = span.spanContext();
    return isValidContext(context) ? traceContextOf(context) : NO_TRACE;
  }

  /**
   * The trace context a reply carries: the responder's CONSUMER span when one is active, else the
   * request's own context, so request and reply stay in one trace with or without an SDK.
   */
  replyTraceContext(request: TraceContext | undefined): TraceContext {
    const current = this.currentTraceContext();
    if (current.traceparent !== undefined) return current;
    if (!isTraceparent(request?.traceparent)) return NO_TRACE;
    return request.tracestate
      ? { traceparent: request.traceparent, tracestate: request.tracestate }
      : { traceparent: request.traceparent };
  }

  private async publishRecorded<R>(
    api: OtelApi,
    span: SpanLike,
    metrics: Instruments | undefined,
    destination: string,
    envelope: { id: string; correlationId?: string },
    attributes: LazyAttributes,
    send: (trace: TraceContext) => Promise<R>,
  ): Promise<R> {
    const started = metrics ? performance.now() : 0;
    span.setAttributes(clean(resolve(attributes), envelope.id, envelope.correlationId));
    let failure: string | undefined;
    try {
      const context = span.spanContext();
      const trace = isValidContext(context) ? traceContextOf(context) : NO_TRACE;
      return await api.context.with(api.trace.setSpan(api.context.active(), span), () => send(trace));
    } catch (error) {
      failure = failSpan(span, error);
      throw error;
    } finally {
      span.end();
      if (metrics) this.recordPublish(metrics, destination, started, failure);
    }
  }

  private async publishMeasured<R>(metrics: Instruments, destination: string, send: () => Promise<R>): Promise<R> {
    const started = performance.now();
    let failure: string | undefined;
    try {
      return await send();
    } catch (error) {
      failure = errorTypeOf(error);
      throw error;
    } finally {
      this.recordPublish(metrics, destination, started, failure);
    }
  }

  private recordPublish(metrics: Instruments, destination: string, started: number, failure: string | undefined): void {
    const base = this.metricAttributes(metrics, destination, 'publish', undefined);
    const attributes = failure === undefined ? base : { ...base, 'error.type': failure };
    metrics.sent.add(1, attributes);
    metrics.operationDuration.record((performance.now() - started) / 1000, attributes);
  }

  private async processRecorded<R>(
    api: OtelApi,
    span: SpanLike,
    recording: boolean,
    parent: unknown,
    metrics: Instruments | undefined,
    destination: string,
    envelope: Partial<CloudEventAttributes> | undefined,
    lazyAttributes: LazyAttributes,
    handle: (span: ProcessSpan) => Promise<R>,
  ): Promise<R> {
    const started = metrics ? performance.now() : 0;
    const attributes = resolve(lazyAttributes);
    if (recording) span.setAttributes(clean(attributes, envelope?.id, envelope?.correlationid));
    const consumer = new ConsumerSpan(
      span,
      recording,
      metrics,
      metrics ? this.metricAttributes(metrics, destination, 'process', attributes) : undefined,
    );
    try {
      return recording
        ? await api.context.with(api.trace.setSpan(parent, span), () => handle(consumer))
        : await handle(consumer);
    } catch (error) {
      consumer.fail(error);
      throw error;
    } finally {
      span.end();
      if (metrics) {
        const base = consumer.metricAttributes!;
        const measured = consumer.errorType === undefined ? base : { ...base, 'error.type': consumer.errorType };
        metrics.consumed.add(1, measured);
        metrics.processDuration.record((performance.now() - started) / 1000, measured);
      }
    }
  }

  /** Attributes set when a span starts (samplers see them): system, destination, operation. */
  private startAttributes(destination: string, name: string, type: string): Attributes {
    return {
      'messaging.system': this.system,
      'messaging.destination.name': destination,
      'messaging.operation.name': name,
      'messaging.operation.type': type,
    };
  }

  /** The attributes of a metric point: low cardinality only (no message id, key, offset or concrete subject). */
  private metricAttributes(
    metrics: Instruments,
    destination: string,
    operation: 'publish' | 'process',
    extra: MessagingAttributes | undefined,
  ): Attributes {
    let key = `${operation}\u0000${destination}`;
    if (extra) for (const name of METRIC_ATTRIBUTES) key += `\u0000${extra[name] ?? ''}`;
    let set = metrics.attributeSets.get(key);
    if (set) return set;
    set = this.startAttributes(destination, operation, operation === 'publish' ? 'send' : 'process');
    if (extra) {
      for (const name of METRIC_ATTRIBUTES) {
        const value = extra[name];
        if (value !== undefined) set[name] = value;
      }
    }
    if (metrics.attributeSets.size < MAX_ATTRIBUTE_SETS) metrics.attributeSets.set(key, set);
    return set;
  }

  /**
   * True when no tracer provider is registered (the API's own no-op one is in place): no span would
   * record, so none is started. Unknown API versions answer false and take the general path.
   */
  private tracingOff(api: OtelApi): boolean {
    if (this.noopTracerProvider === undefined) return false;
    const provider = api.trace.getTracerProvider() as TracerProviderLike & { getDelegate?(): unknown };
    return provider.getDelegate?.() === this.noopTracerProvider;
  }

  /** The tracer of the global provider (looked up again when the application replaces the provider). */
  private tracer(api: OtelApi): TracerLike {
    const provider = api.trace.getTracerProvider();
    if (provider !== this.tracerProvider || !this.cachedTracer) {
      this.tracerProvider = provider;
      this.cachedTracer = provider.getTracer(INSTRUMENTATION);
    }
    return this.cachedTracer;
  }

  /** The instruments of the global meter provider; undefined when none is registered (the no-op meter). */
  private instruments(api: OtelApi): Instruments | undefined {
    const provider = api.metrics.getMeterProvider();
    if (provider !== this.meterProvider) {
      this.meterProvider = provider;
      const meter = provider.getMeter(INSTRUMENTATION);
      this.cachedInstruments =
        this.noopMeter !== undefined && meter === this.noopMeter ? undefined : new Instruments(meter);
    }
    return this.cachedInstruments;
  }
}

/** The CONSUMER span of one event, recording (an SDK sampled it) or only counting (metrics without traces). */
class ConsumerSpan implements ProcessSpan {
  errorType: string | undefined;
  readonly traceId: string | undefined;

  constructor(
    private readonly span: SpanLike,
    private readonly recording: boolean,
    private readonly metrics: Instruments | undefined,
    readonly metricAttributes: Attributes | undefined,
  ) {
    const context = span.spanContext();
    this.traceId = isValidContext(context) ? context.traceId : undefined;
  }

  event(name: string, attributes?: MessagingAttributes): void {
    if (this.recording) this.span.addEvent(name, attributes ? clean(attributes) : undefined);
    const counter = this.metrics ? counterOf(this.metrics, name) : undefined;
    counter?.add(1, this.metricAttributes);
  }

  fail(error: unknown): void {
    this.errorType ??= errorTypeOf(error);
    if (!this.recording) return;
    this.span.recordException(asException(error));
    this.span.setStatus({ code: STATUS_ERROR, message: errorMessage(error) });
    this.span.setAttribute('error.type', this.errorType);
  }

  retry(info: RetryInfo): void {
    // Redelivered: this span is one failed delivery. In process: the span goes on to the next attempt.
    if (info.redelivery) this.fail(info.error);
    else if (this.recording) this.span.recordException(asException(info.error));
    this.event('messaging.retry', {
      attempt: info.attempt,
      delay_ms: Math.round(info.delayMs),
      redelivery: info.redelivery === true,
      'exception.type': errorTypeOf(info.error),
      'exception.message': errorMessage(info.error),
    });
  }

  deadLetter(info: DeadLetterInfo): void {
    if (info.reason !== 'handler-failed')
      this.event('messaging.invalid', { reason: info.reason, 'exception.message': info.error });
    this.event('messaging.dead_letter', {
      reason: info.reason,
      attempts: info.attempts,
      'exception.message': info.error,
    });
    this.errorType = info.reason;
    if (!this.recording) return;
    this.span.recordException(info.exception !== undefined ? asException(info.exception) : new Error(info.error));
    this.span.setStatus({ code: STATUS_ERROR, message: info.error });
    this.span.setAttribute('error.type', info.reason);
  }

  duplicate(): void {
    this.event('messaging.duplicate');
  }
}

/** The counter a span event of the pipeline increments. */
function counterOf(metrics: Instruments, event: string): CounterLike | undefined {
  switch (event) {
    case 'messaging.retry':
      return metrics.retried;
    case 'messaging.dead_letter':
      return metrics.deadLettered;
    case 'messaging.duplicate':
      return metrics.deduplicated;
    case 'messaging.invalid':
      return metrics.invalid;
    default:
      return undefined;
  }
}

/** The trace id of a `traceparent` (for logs), undefined when it is missing or malformed. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return isTraceparent(traceparent) ? traceparent.slice(3, 35) : undefined;
}

function resolve(attributes: LazyAttributes): MessagingAttributes {
  return typeof attributes === 'function' ? attributes() : attributes;
}

/** Calls `fn`, turning a synchronous throw into a rejection. */
function call<A, R>(fn: (argument: A) => Promise<R>, argument: A): Promise<R> {
  try {
    return fn(argument);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The remote span context an event carries; undefined when it has none or a malformed one. */
function remoteContextOf(
  api: OtelApi,
  envelope: Partial<CloudEventAttributes> | undefined,
): SpanContextLike | undefined {
  const traceparent = envelope?.traceparent;
  if (!isTraceparent(traceparent)) return undefined;
  const context: SpanContextLike = {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: parseInt(traceparent.slice(53, 55), 16) & 1,
    isRemote: true,
  };
  if (envelope?.tracestate && api.createTraceState) {
    try {
      context.traceState = api.createTraceState(envelope.tracestate);
    } catch {
      // A malformed tracestate is dropped, never fatal.
    }
  }
  return context;
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';

function isValidContext(context: SpanContextLike): boolean {
  return (
    context.traceId.length === 32 &&
    context.traceId !== INVALID_TRACE_ID &&
    context.spanId.length === 16 &&
    context.spanId !== INVALID_SPAN_ID
  );
}

/** The W3C trace context of a valid span context (see isValidContext). */
function traceContextOf(context: SpanContextLike): TraceContext {
  const traceparent = `00-${context.traceId}-${context.spanId}-${context.traceFlags & 1 ? '01' : '00'}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Span attributes without undefined values, plus the message id and conversation (correlation) id. */
function clean(attributes: MessagingAttributes, id?: string, conversationId?: string): Attributes {
  const out: Attributes = {};
  if (id !== undefined) out['messaging.message.id'] = id;
  if (conversationId !== undefined) out['messaging.message.conversation_id'] = conversationId;
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Records a failure on a span (exception, status ERROR, `error.type`); returns the `error.type`. */
function failSpan(span: SpanLike, error: unknown): string {
  const type = errorTypeOf(error);
  span.recordException(asException(error));
  span.setStatus({ code: STATUS_ERROR, message: errorMessage(error) });
  span.setAttribute('error.type', type);
  return type;
}

function asException(error: unknown): Error {
  return error instanceof Error ? error : new Error(errorMessage(error));
}

/** `error.type`: the exception's class name (low cardinality), `_OTHER` when it has none. */
function errorTypeOf(error: unknown): string {
  return error instanceof Error && error.name ? error.name : '_OTHER';
}
