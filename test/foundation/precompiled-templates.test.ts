import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFiles } from '../../src/pipeline/generate.js';
import { PRECOMPILED_TEMPLATES, templateKey } from '../../src/render/compile.js';
import { BUILTIN_TEMPLATES_DIR } from '../../src/render/paths.js';
import { freshDir } from '../helpers/codegen.js';

const EXAMPLE = path.resolve('fixtures/example/asyncapi.yaml');
const TARGETS = ['rabbitmq', 'kafka', 'nats'];

function builtinTemplates(): string[] {
  return readdirSync(BUILTIN_TEMPLATES_DIR, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.hbs'))
    .sort();
}

describe('templates precompiled at build time', () => {
  it('cover every built-in template (the build ran after the last template change)', () => {
    const shipped = createRequire(import.meta.url)(PRECOMPILED_TEMPLATES) as Record<string, unknown>;
    const missing = builtinTemplates().filter((name) => !(templateKey(readFileSync(path.join(BUILTIN_TEMPLATES_DIR, name), 'utf8')) in shipped));
    expect(missing, 'templates changed since the last build (npm run build precompiles them)').toEqual([]);
  });

  it('render the same bytes as templates compiled at run time', async () => {
    // A copy of every built-in template with a Handlebars comment added: same output, other text, so
    // none of them is found precompiled and each is compiled at run time.
    const edited = freshDir('templates-compiled-at-run-time');
    cpSync(BUILTIN_TEMPLATES_DIR, edited, { recursive: true });
    for (const name of builtinTemplates()) writeFileSync(path.join(edited, name), readFileSync(path.join(edited, name), 'utf8') + '{{!-- compiled at run time --}}');
    const precompiled = await generateFiles({ document: EXAMPLE, targets: TARGETS });
    const compiled = await generateFiles({ document: EXAMPLE, targets: TARGETS, templatesDir: edited });
    expect(compiled.files.map((f) => f.path)).toEqual(precompiled.files.map((f) => f.path));
    for (const [index, file] of compiled.files.entries()) expect(file.content, file.path).toBe(precompiled.files[index]!.content);
  });
});
