// Build step: records a build id, and formats the static run-time files once so that a user's
// first `codegen generate` finds them in the cache shipped with the package (dist/format-cache).
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(path.join(root, 'dist/build-id'), randomUUID());
const { openCache } = await import(path.join(root, 'dist/cache/cache.js'));
const { generateFiles } = await import(path.join(root, 'dist/pipeline/generate.js'));
const { SHIPPED_FORMAT_CACHE } = await import(path.join(root, 'dist/format/prettier.js'));
rmSync(SHIPPED_FORMAT_CACHE, { recursive: true, force: true });
const shipped = openCache(SHIPPED_FORMAT_CACHE);
// Only formatting entries are shipped: a whole-run entry would tie the package to one document.
const formatOnly = { get: (kind, key) => (kind === 'format' ? shipped.get(kind, key) : undefined), set: (kind, key, value) => kind === 'format' && shipped.set(kind, key, value) };
const started = Date.now();
await generateFiles({ document: path.join(root, 'fixtures/example/asyncapi.yaml'), targets: ['rabbitmq', 'kafka', 'nats'], cache: formatOnly });
console.error(`warmed the shipped format cache in ${Date.now() - started} ms`);
