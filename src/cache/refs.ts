import { fileRefsOf, loadKnownInputs, type DocumentSet, type InputFiles, type LoadOptions } from '../load/document-set.js';
import { disabledCache, hashOf, type Cache } from './cache.js';
import { buildFingerprint } from './fingerprint.js';

/**
 * The `$ref`s of every file a run parsed, remembered by the file's bytes (and kind: a `.proto` file
 * is not parsed as YAML) under this build of codegen, whose parser found them. With them a document
 * set's files are found again without parsing any (`knownInputs`): what a run answered from the
 * cache needs, and all it needs, to compute its key.
 */
function refsKey(id: string, text: string): string {
  return hashOf(buildFingerprint(), /\.proto$/i.test(id) ? 'proto' : 'document', text);
}

/** The files of a document set, unparsed, when every file's references are remembered; else undefined. */
export function knownInputs(cache: Cache, document: string, load: LoadOptions): Promise<InputFiles | undefined> {
  if (cache === disabledCache) return Promise.resolve(undefined);
  return loadKnownInputs(document, load, (id, text) => {
    const value = cache.get('refs', refsKey(id, text));
    return value === undefined ? undefined : (JSON.parse(value) as string[]);
  });
}

/** Remembers the references of every file of a loaded set (those not remembered yet). */
export function rememberRefs(cache: Cache, set: DocumentSet): void {
  if (cache === disabledCache) return;
  for (const file of set.files.values()) {
    const key = refsKey(file.id, file.text);
    if (cache.get('refs', key) === undefined) cache.set('refs', key, JSON.stringify(fileRefsOf(file)));
  }
}

/** The files of a set as a key part: each file's path (as `pathOf` gives it) and text, and the symlinks references went through. */
export function inputsKeyParts(inputs: InputFiles, pathOf: (file: string) => string): string[] {
  const aliases = [...inputs.aliases].map(([written, real]) => `${pathOf(written)} -> ${pathOf(real)}`).sort();
  return [aliases.join('\n'), ...inputs.files.map((file) => `${pathOf(file.id)}\n${file.text}`)];
}
