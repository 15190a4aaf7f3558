// Build step: records a build id, which keys the whole-run and parser-verdict caches, so a new
// build never answers from entries an older build wrote.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(path.join(root, 'dist/build-id'), randomUUID());
