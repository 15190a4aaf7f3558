// Build step: V8 code cache entries for the package's own large CommonJS modules (the precompiled
// AsyncAPI schemas, about a megabyte of code for 3.x, and the precompiled templates), shipped in
// dist/compile-cache so even a first run does not compile them (src/cli/compile-cache.ts). Each
// schema runs on the repository's example documents first, so the entries also hold the functions a
// validation compiles lazily. Entries are for this Node build only; another one compiles as usual.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const { installCompileCache } = await import(path.join(dist, 'cli/compile-cache.js'));
const { SHIPPED_COMPILE_CACHE } = await import(path.join(dist, 'cli/compile-cache-setup.js'));
const { loadValidator, SUPPORTED_VERSIONS } = await import(path.join(dist, 'validate/structure.js'));
const { parseSourceText } = await import(path.join(dist, 'load/source-file.js'));

const started = Date.now();
const stats = installCompileCache({ read: [], write: SHIPPED_COMPILE_CACHE, accept: (file) => file.startsWith(dist + path.sep) });
createRequire(import.meta.url)(path.join(dist, 'precompiled-templates.cjs'));

/** Every example document of the repository, parsed (references stay as written: enough to run the schema). */
function exampleDocuments() {
  const fixtures = path.join(root, 'fixtures');
  const documents = [];
  for (const entry of readdirSync(fixtures, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ya?ml|json)$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    try {
      documents.push(parseSourceText(file, file, readFileSync(file, 'utf8')).data);
    } catch {
      // Not a document (or deliberately broken): nothing to run.
    }
  }
  return documents;
}

const documents = exampleDocuments();
for (const version of SUPPORTED_VERSIONS) {
  const validate = loadValidator(version);
  validate({ asyncapi: version, info: { title: 'minimal', version: '1.0.0' }, channels: {} });
  for (const document of documents) if (document?.asyncapi === version) validate(document);
}
process.on('exit', () => console.error(`compile cache: ${stats.misses} modules in ${Date.now() - started} ms`));
