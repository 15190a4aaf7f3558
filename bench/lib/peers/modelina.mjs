// Peer: @asyncapi/modelina, TypeScript models from an AsyncAPI document, as a whole process: import,
// parse (Modelina runs @asyncapi/parser itself), generate and write one file per model. This calls
// the library directly, without the oclif start-up of `asyncapi generate models`: the cheapest way
// to run Modelina, so the comparison errs in the peer's favour.
// Prints one JSON line on stdout: {"tool":"@asyncapi/modelina","models":N,"files":N}
// Usage: node bench/lib/peers/modelina.mjs <document> <outDir>
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TypeScriptFileGenerator } from '@asyncapi/modelina';

const [document, outDir] = process.argv.slice(2).map((p) => path.resolve(p));
const generator = new TypeScriptFileGenerator({ modelType: 'interface' });
const models = await generator.generateToFiles(pathToFileURL(document).href, outDir, { exportType: 'named' }, true);
const files = readdirSync(outDir).filter((f) => f.endsWith('.ts')).length;
console.log(JSON.stringify({ tool: '@asyncapi/modelina', models: models.length, files }));
process.exitCode = files > 0 ? 0 : 1;
