import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig, ResolvedEntry } from '../config/types.js';

/**
 * The entries a list of changed files concerns: a file is the config itself (every entry), an
 * entry's document, a file the document references, a template of the entry, or a file in its
 * output folder (a hand-edited generated file must be checked too). Referenced files are found
 * by loading (not validating) the documents, only when some changed file matched nothing cheaper.
 */
export async function selectEntries(config: ResolvedConfig, files: string[], cwd: string): Promise<ResolvedEntry[]> {
  const changed = new Set(files.map((file) => realOrResolved(path.resolve(cwd, file))));
  if (changed.has(realOrResolved(config.file))) return config.entries;
  const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);
  const selected = new Set<ResolvedEntry>();
  const unmatched = new Set(changed);
  for (const entry of config.entries) {
    const document = realOrResolved(entry.document);
    const out = realOrResolved(entry.out);
    const templates = entry.templates ? realOrResolved(entry.templates) : undefined;
    for (const file of changed) {
      if (file === document || inside(file, out) || (templates !== undefined && inside(file, templates))) {
        selected.add(entry);
        unmatched.delete(file);
      }
    }
  }
  const mayBeReferenced = [...unmatched].filter((file) => /\.(ya?ml|json)$/i.test(file));
  if (mayBeReferenced.length > 0) {
    const { loadDocumentSet } = await import('../load/document-set.js');
    for (const entry of config.entries) {
      if (selected.has(entry)) continue;
      try {
        const set = await loadDocumentSet(entry.document, { allowRemoteRefs: false, allowOutsideRefs: entry.allowOutsideRefs, projectRoot: entry.projectRoot, cwd });
        const inputs = new Set([...set.files.keys()].map(realOrResolved));
        if (mayBeReferenced.some((file) => inputs.has(file))) selected.add(entry);
      } catch {
        // A document that cannot be loaded is not selected here; if it was changed itself, it matched above.
      }
    }
  }
  return config.entries.filter((entry) => selected.has(entry));
}

function realOrResolved(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    // Deleted files (and folders not created yet): resolve the parent folder, keep the name.
    try {
      return path.join(realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  }
}
