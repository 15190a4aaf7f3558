// The NATS client library's failures, recognised by name and API code (error classes cross package
// copies, so `instanceof` cannot be trusted).

/** JetStream API error codes the topology reacts to. */
export const STREAM_NOT_FOUND = 10059;
export const SUBJECTS_OVERLAP = 10065;
export const CONSUMER_EXISTS = 10148;
/** A cluster without a leader for the request (a stream or meta leader being elected): "temporarily unavailable"… */
const CLUSTER_NOT_AVAILABLE = 10008;
/** … and "JetStream cluster can not handle request" (asked a server that no longer leads). */
const CLUSTER_NOT_LEADER = 10009;

export function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The error and its causes, outermost first. */
function causes(error: unknown): Error[] {
  const found: Error[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++)
    found.push(current);
  return found;
}

/** The names of the error and its causes, outermost first. */
function chain(error: unknown): string[] {
  return causes(error).map((cause) => cause.name);
}

export function isTimeout(error: unknown): boolean {
  return chain(error).includes('TimeoutError');
}

export function isNoResponders(error: unknown): boolean {
  return chain(error).includes('NoRespondersError');
}

/** JetStream answers "not enabled" when no stream stores the subject (or the server is still starting). */
export function isNoStream(error: unknown): boolean {
  return chain(error).includes('JetStreamNotEnabled') || isNoResponders(error);
}

/** Worth another try with the same `Nats-Msg-Id`: a timeout, no stream ready yet, a connection or request failure. */
export function isTransient(error: unknown): boolean {
  const names = chain(error);
  return isTimeout(error) || isNoStream(error) || names.includes('ConnectionError') || names.includes('RequestError');
}

/** The JetStream API's answer while a stream or the cluster's meta leader is being elected. */
export function isElecting(error: unknown): boolean {
  return causes(error).some((cause) => {
    const code = apiCode(cause);
    return (
      code === CLUSTER_NOT_AVAILABLE || code === CLUSTER_NOT_LEADER || (cause as { status?: unknown }).status === 503
    );
  });
}

/** A stream or consumer request worth another try: transient as a publish is, or met during a leader election. */
export function isTransientRequest(error: unknown): boolean {
  return isTransient(error) || isElecting(error);
}
