// Peer: @asyncapi/parser alone, as a whole process: import, parse and validate one document (the
// reference `codegen validate` must agree with). Prints one JSON line on stdout:
//   {"tool":"@asyncapi/parser","valid":true,"errors":0,"channels":N,"operations":N}
// Usage: node bench/lib/peers/parser.mjs <document>
import path from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const file = path.resolve(process.argv[2]);
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, file).parse();
const errors = diagnostics.filter((d) => d.severity === 0).length;
console.log(
  JSON.stringify({
    tool: '@asyncapi/parser',
    valid: document !== undefined && errors === 0,
    errors,
    channels: document ? document.channels().length : 0,
    operations: document ? document.operations().length : 0,
  }),
);
process.exitCode = document ? 0 : 1;
