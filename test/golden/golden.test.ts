// What users get, visible in review: the generated output of a few fixtures, committed under
// test/golden/<fixture>/. The run-time (`runtime/`) is left out: it is copied verbatim from the
// repository's runtime/ folder, whose own diffs show any change (test/runtime/source.test.ts).
//
// After an intended change: `npm run golden:update`, then review and commit the files it changed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileStrict, FIXTURES, generateTo } from '../helpers/codegen.js';

const TARGETS = ['rabbitmq', 'kafka', 'nats', 'mqtt'];
const GOLDEN = path.join(import.meta.dirname);

/** Fixture document → folder name under test/golden/. */
const DOCUMENTS: Record<string, string> = {
  'example/asyncapi.yaml': 'example',
  'spec/2.6/streetlights-kafka.yml': 'streetlights-kafka-2.6',
  'spec/3.0/streetlights-mqtt-asyncapi.yml': 'streetlights-mqtt-3.0',
  'spec/3.0/rpc-server-asyncapi.yml': 'rpc-server-3.0',
  'spec/3.0/application-headers-asyncapi.yml': 'application-headers-3.0',
};

function filesUnder(dir: string, keep: (relative: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter(keep)
    .sort();
}

const documentSpecific = (relative: string) => !relative.startsWith('runtime/') && relative !== '.codegen-manifest.json';

// `npm run golden:update` empties the folders first, and the snapshots themselves list what is written.
const updating = process.env.CODEGEN_GOLDEN_UPDATE === '1';
const outputs = new Map<string, string>();

describe('golden output', () => {
  it.each(Object.entries(DOCUMENTS))('of %s is the committed output, file for file', async (document, folder) => {
    const out = await generateTo(path.join(FIXTURES, document), TARGETS);
    outputs.set(document, out);
    const generated = filesUnder(out, documentSpecific);
    // A file the generator stopped writing must go from the golden folder too.
    if (!updating) expect(filesUnder(path.join(GOLDEN, folder), () => true)).toEqual(generated);
    for (const file of generated) {
      await expect(readFileSync(path.join(out, file), 'utf8')).toMatchFileSnapshot(path.join(GOLDEN, folder, file));
    }
  });

  it('compiles under tsc --strict, all of it as one program', async () => {
    expect(outputs.size).toBe(Object.keys(DOCUMENTS).length);
    await compileStrict([...outputs.values()]);
  }, 300_000);
});
