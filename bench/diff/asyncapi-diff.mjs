// One whole-process run of @asyncapi/diff on two documents, as its README shows it: parse both
// with @asyncapi/parser, then diff their JSON. Prints the breaking changes it found.
// Usage: node bench/diff/asyncapi-diff.mjs old.yaml new.yaml
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { diff } from '@asyncapi/diff';

const [oldFile, newFile] = process.argv.slice(2);
const parser = new Parser();
const parseFile = async (file) => {
  const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'), { source: file });
  if (!document) throw new Error(`${file}: ${diagnostics.filter((d) => d.severity === 0).map((d) => d.message).join('; ')}`);
  return document.json();
};
const [first, second] = await Promise.all([parseFile(oldFile), parseFile(newFile)]);
const output = diff(first, second, { outputType: 'json' });
const breaking = output.breaking();
console.log(JSON.stringify({ breaking: Array.isArray(breaking) ? breaking.length : breaking, unclassified: output.unclassified().length, nonBreaking: output.nonBreaking().length }));
