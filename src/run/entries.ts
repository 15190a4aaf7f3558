import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runEntry, type EntryResult, type GenerateJob, type RunContext } from './entry.js';

/** Worker threads for entries that miss the cache (see runEntries). */
export interface ParallelOptions {
  /** Threads to use in all, this one included (1: none started). */
  threads: number;
  /** Start them only once a run has taken this long: a run answered from the cache never pays for them. */
  afterMs: number;
  /** How the workers open the cache (a Cache object cannot cross threads). */
  cacheDir?: string;
}

export interface RunEntriesOutcome<J extends GenerateJob> {
  results: EntryResult<J>[];
  /** Worker threads started. */
  threads: number;
}

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * Runs entries, results in the entries' order. In this thread, `concurrency` entries are in flight
 * at a time (loading, cache reads and the comparison with the disk overlap). When the run is still
 * going after `parallel.afterMs` with entries left (a sign they miss the cache: rendering and
 * formatting are CPU-bound), worker threads join in and take the remaining entries.
 */
export async function runEntries<J extends GenerateJob>(
  entries: J[],
  context: RunContext,
  concurrency: number,
  onStart?: (entry: J, started: number) => void,
  parallel?: ParallelOptions,
): Promise<RunEntriesOutcome<J>> {
  const results = new Array<EntryResult<J>>(entries.length);
  let next = 0;
  let started = 0;
  let threads = 0;
  const take = (): number | undefined => {
    if (next >= entries.length) return undefined;
    onStart?.(entries[next]!, ++started);
    return next++;
  };
  const lane = async () => {
    for (let index = take(); index !== undefined; index = take()) results[index] = await runEntry(entries[index]!, context);
  };
  const workerLane = async () => {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(WORKER_FILE, { workerData: { mode: context.mode, cwd: context.cwd, cacheDir: parallel?.cacheDir } });
    threads++;
    try {
      for (let index = take(); index !== undefined; index = take()) {
        const answer = await ask(worker, entries[index]!);
        // Copies come back from the thread; keep the caller's entry objects.
        results[index] = answer ? { ...answer, entry: entries[index]! } : await runEntry(entries[index]!, context);
      }
    } finally {
      await worker.terminate();
    }
  };
  const useThreads = parallel !== undefined && parallel.threads > 1 && entries.length > 1 && existsSync(WORKER_FILE);
  // With threads to come, this thread takes one entry at a time and leaves the rest to them.
  const lanes: Array<Promise<void>> = Array.from({ length: useThreads ? 1 : Math.max(1, Math.min(concurrency, entries.length)) }, lane);
  let timer: NodeJS.Timeout | undefined;
  const extra: Array<Promise<void>> = [];
  if (useThreads) {
    timer = setTimeout(() => {
      for (let i = 1; i < Math.min(parallel.threads, entries.length - next + 1); i++) extra.push(workerLane());
    }, parallel.afterMs);
    timer.unref();
  }
  try {
    await Promise.all(lanes);
    await Promise.all(extra);
  } finally {
    if (timer) clearTimeout(timer);
  }
  return { results, threads };
}

/** One entry on a worker thread; undefined when the thread failed (the entry then runs here). */
function ask(worker: import('node:worker_threads').Worker, entry: GenerateJob): Promise<EntryResult | undefined> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { ok: true; result: EntryResult } | { ok: false; error: string }) => {
      cleanup();
      if (message.ok) resolve(message.result);
      else reject(new Error(message.error));
    };
    const onError = () => {
      cleanup();
      resolve(undefined);
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(entry);
  });
}
