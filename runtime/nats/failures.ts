// The NATS client library's failures, recognised by name and API code (error classes cross package
// copies, so `instanceof` cannot be trusted).

/** JetStream API error codes the topology reacts to. */
export const STREAM_NOT_FOUND = 10059;
export const SUBJECTS_OVERLAP = 10065;
export const CONSUMER_EXISTS = 10148;

export function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The names of the error and its causes, outermost first. */
function chain(error: unknown): string[] {
  const names: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++)
    names.push(current.name);
  return names;
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
