import { existsSync, readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/codegen.js';
import { hashTree, project, spawnBinary } from './support.js';

/**
 * `codegen --watch` as users run it: the built binary (npm run build first), driven by editing
 * files, stopped with SIGINT.
 */
describe('codegen --watch (built binary)', () => {
  it('regenerates on change, keeps the output when the document breaks, regenerates when fixed, stops on SIGINT', async () => {
    const dir = project('watch', { 'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out' }] }) });
    const out = path.join(dir, 'out');
    const doc = path.join(dir, 'asyncapi.yaml');
    const schema = path.join(dir, 'schemas/user.yaml');
    const original = readFileSync(doc, 'utf8');
    const watcher = spawnBinary(['--watch'], dir);
    try {
      let at = await watcher.waitFor(/✔ asyncapi\.yaml → out: wrote \d+ file\(s\).*\n/);
      at = await watcher.waitFor(/watching \d+ file\(s\) for 1 document\(s\) \(press Ctrl-C to stop\)\n/, at);
      expect(readFileSync(path.join(out, 'types.ts'), 'utf8')).not.toContain('nickname');

      // A file the document references changes → regenerated.
      writeFileSync(schema, readFileSync(schema, 'utf8') + '    nickname:\n      type: string\n');
      at = await watcher.waitFor(/schemas\/user\.yaml changed\n/, at);
      at = await watcher.waitFor(/✔ asyncapi\.yaml → out: wrote [1-9]\d* file\(s\).*\n/, at);
      expect(readFileSync(path.join(out, 'types.ts'), 'utf8')).toContain('nickname');

      // The document breaks → its error is shown, the output stays exactly as it was.
      const before = hashTree(out);
      writeFileSync(doc, original.replace('  version: 1.0.0\n', ''));
      at = await watcher.waitFor(/asyncapi\.yaml changed\n/, at);
      at = await watcher.waitFor(/✖ asyncapi\.yaml:\d+:\d+ \(#\/info\): error .*version/, at);
      at = await watcher.waitFor(/✖ asyncapi\.yaml → out: failed; the previous output is kept\. Watching for changes…\n/, at);
      expect(hashTree(out)).toEqual(before);

      // Fixed the way editors save (write a temporary file, rename it over the document), with a new title.
      const temp = path.join(dir, '.asyncapi.yaml.swp');
      writeFileSync(temp, original.replace('title: Accounts', 'title: Accounts Renamed'));
      renameSync(temp, doc);
      at = await watcher.waitFor(/asyncapi\.yaml changed\n/, at);
      at = await watcher.waitFor(/✔ asyncapi\.yaml → out: wrote [1-9]\d* file\(s\).*\n/, at);
      expect(readFileSync(path.join(out, 'index.ts'), 'utf8')).toContain('Accounts Renamed');

      // The config changes → reloaded, and the new target is generated.
      writeFileSync(path.join(dir, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out', targets: ['nats'] }] }));
      at = await watcher.waitFor(/codegen\.config\.json changed: reloading the config\n/, at);
      at = await watcher.waitFor(/✔ asyncapi\.yaml → out: wrote [1-9]\d* file\(s\).*\n/, at);
      expect(existsSync(path.join(out, 'nats/client.ts'))).toBe(true);

      // Saving a file without changing it (touched; rewritten whole by rename) triggers nothing.
      utimesSync(schema, new Date(), new Date());
      writeFileSync(schema + '.tmp', readFileSync(schema, 'utf8'));
      renameSync(schema + '.tmp', schema);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(watcher.output().slice(at)).toBe('');

      // No temporary file of an atomic write is ever left behind.
      const leftovers: string[] = [];
      const walk = (folder: string) => {
        for (const entry of readdirSync(folder, { withFileTypes: true })) {
          if (entry.isDirectory()) walk(path.join(folder, entry.name));
          else if (entry.name.includes('.codegen-tmp')) leftovers.push(entry.name);
        }
      };
      walk(out);
      expect(leftovers).toEqual([]);

      watcher.child.kill('SIGINT');
      const exit = await watcher.exit;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(watcher.output()).toMatch(/stopped watching\n$/);
    } finally {
      if (watcher.child.exitCode === null && watcher.child.signalCode === null) watcher.child.kill('SIGKILL');
    }
  });

  it("regenerates when a template of the entry's template folder changes", async () => {
    const logger = readFileSync(path.join(ROOT, 'runtime/logger.ts'), 'utf8');
    const dir = project('watch-templates', {
      'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out', templates: 'my-templates' }] }),
      'my-templates/runtime/logger.ts.hbs': logger,
    });
    const watcher = spawnBinary(['--watch'], dir);
    try {
      let at = await watcher.waitFor(/watching \d+ file\(s\).*\n/);
      writeFileSync(path.join(dir, 'my-templates/runtime/logger.ts.hbs'), logger + '// our own logger note\n');
      at = await watcher.waitFor(/my-templates\/runtime\/logger\.ts\.hbs changed\n/, at);
      at = await watcher.waitFor(/✔ asyncapi\.yaml → out: wrote 1 file\(s\).*\n/, at);
      expect(readFileSync(path.join(dir, 'out/runtime/logger.ts'), 'utf8')).toContain('// our own logger note');
      watcher.child.kill('SIGINT');
      expect(await watcher.exit).toEqual({ code: 0, signal: null });
    } finally {
      if (watcher.child.exitCode === null && watcher.child.signalCode === null) watcher.child.kill('SIGKILL');
    }
  });

  it('a broken config at start is reported and watched until it is fixed', async () => {
    const dir = project('watch-config', { 'codegen.config.json': '{ "documents": [ { "document": "asyncapi.yaml", "out": "out", "tagets": [] } ] }' });
    const watcher = spawnBinary(['--watch'], dir);
    try {
      let at = await watcher.waitFor(/unknown key "tagets" in documents\[0\] \(did you mean "targets"\?\)/);
      at = await watcher.waitFor(/the config could not be loaded; fix it: watching it for changes\n/, at);
      at = await watcher.waitFor(/watching 1 file\(s\).*\n/, at);
      writeFileSync(path.join(dir, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out', targets: [] }] }));
      at = await watcher.waitFor(/✔ asyncapi\.yaml → out: wrote [1-9]\d* file\(s\).*\n/, at);
      expect(existsSync(path.join(dir, 'out/types.ts'))).toBe(true);
      watcher.child.kill('SIGTERM');
      expect(await watcher.exit).toEqual({ code: 0, signal: null });
    } finally {
      if (watcher.child.exitCode === null && watcher.child.signalCode === null) watcher.child.kill('SIGKILL');
    }
  });
});
