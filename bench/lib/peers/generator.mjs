// Peer: @asyncapi/generator with @asyncapi/nodejs-template, as a whole process: import the
// generator, parse the document, render the template, write the files.
//
// @asyncapi/nodejs-template 3.0.4 declares `"generator": ">=0.50.0 <2.0.0"`, so @asyncapi/generator
// 2.x refuses it ("This template is not compatible with the current version of the generator").
// The generator 1.x that @asyncapi/cli 4.1.1 itself uses for `asyncapi generate fromTemplate`
// (installed under @asyncapi/cli/node_modules) is taken instead; the version used is printed.
// The template is given by its folder, so nothing is installed or fetched (install: false).
//
// Prints one JSON line on stdout: {"tool":"@asyncapi/generator","generatorVersion":"1.x","files":N,"jsFiles":N}
// Usage: node bench/lib/peers/generator.mjs <document> <outDir> <serverName>
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [document, outDir] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const server = process.argv[4] ?? 'production';

const require = createRequire(path.join(BENCH, 'package.json'));
/** The generator 1.x bundled with @asyncapi/cli when present, else the top-level one. */
function generatorEntry() {
  const candidates = [path.join(BENCH, 'node_modules/@asyncapi/cli/node_modules/@asyncapi/generator'), path.join(BENCH, 'node_modules/@asyncapi/generator')];
  for (const dir of candidates) {
    try {
      const version = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
      if (Number(version.split('.')[0]) < 2) return { dir, version };
    } catch {
      // not installed there
    }
  }
  throw new Error('no @asyncapi/generator 1.x found (needed by @asyncapi/nodejs-template 3.0.4); run npm install in bench/');
}

const { dir, version } = generatorEntry();
const Generator = require(path.join(dir, 'lib/generator.js'));
const template = path.join(BENCH, 'node_modules/@asyncapi/nodejs-template');
const generator = new Generator(template, outDir, { forceWrite: true, install: false, templateParams: { server } });
await generator.generateFromFile(document);

function walk(folder) {
  return readdirSync(folder).flatMap((name) => {
    const full = path.join(folder, name);
    if (name === 'node_modules') return [];
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
const files = walk(outDir);
console.log(JSON.stringify({ tool: '@asyncapi/generator', generatorVersion: version, template: '@asyncapi/nodejs-template', files: files.length, jsFiles: files.filter((f) => f.endsWith('.js')).length }));
