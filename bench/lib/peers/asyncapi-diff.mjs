// Peer: the @asyncapi/diff library, as a whole process, used the way its README and `asyncapi diff`
// use it: both documents parsed by @asyncapi/parser, then `diff(old.json(), new.json())`.
// Prints one JSON line on stdout: {"tool":"@asyncapi/diff","breaking":N,"nonBreaking":N,"unclassified":N}
// Usage: node bench/lib/peers/asyncapi-diff.mjs <old> <new>
import path from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';
import asyncapiDiff from '@asyncapi/diff';

const [oldFile, newFile] = process.argv.slice(2).map((p) => path.resolve(p));
const parser = new Parser();
const parsed = [];
for (const file of [oldFile, newFile]) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  if (!document) {
    console.error(`${file}: ${diagnostics.filter((d) => d.severity === 0).map((d) => d.message).join('; ')}`);
    process.exit(2);
  }
  parsed.push(document.json());
}
const output = asyncapiDiff.diff(parsed[0], parsed[1], { outputType: 'json' });
const count = (list) => (Array.isArray(list) ? list.length : 0);
console.log(JSON.stringify({ tool: '@asyncapi/diff', breaking: count(output.breaking()), nonBreaking: count(output.nonBreaking()), unclassified: count(output.unclassified()) }));
