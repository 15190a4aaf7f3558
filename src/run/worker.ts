import { parentPort, workerData } from 'node:worker_threads';
import { disabledCache, openCache } from '../cache/cache.js';
import { runEntry, type GenerateJob, type RunMode } from './entry.js';

/** A worker thread of `codegen` (config run): generates the entries it is sent, one at a time (see runEntries in entries.ts). */
const data = workerData as { mode: RunMode; cwd: string; cacheDir?: string };
const cache = data.cacheDir ? openCache(data.cacheDir) : disabledCache;

parentPort!.on('message', (entry: GenerateJob) => {
  runEntry(entry, { mode: data.mode, cache, cwd: data.cwd }).then(
    (result) => parentPort!.postMessage({ ok: true, result }),
    (error: unknown) => parentPort!.postMessage({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
