import { isAvroFormat } from '../model/avro.js';
import { isProtobufFormat } from '../model/protobuf.js';
import type { Generator } from './contract.js';

/** The shared run-time every target builds on (`runtime/*.ts`): envelope, validation glue, consumer pipeline. */
export const runtimeGenerator: Generator = {
  name: 'runtime',
  generate(context) {
    const files = context.runtime.folder('', context.view);
    // Each codec ships only with documents that have its messages; the schema registry client with either.
    const avro = context.model.messages.some((m) => isAvroFormat(m.schemaFormat));
    const protobuf = context.model.messages.some((m) => isProtobufFormat(m.schemaFormat));
    if (avro) files.push(...context.runtime.folder('avro', context.view));
    if (protobuf) files.push(...context.runtime.folder('protobuf', context.view));
    if (avro || protobuf) files.push(...context.runtime.folder('schema-registry', context.view));
    return files;
  },
};

/** The document's operations as broker-independent specs, and the index that exports everything. */
export const operationsGenerator: Generator = {
  name: 'operations',
  generate({ renderer, view, options }) {
    return [
      { path: 'operations.ts', content: renderer.render('core/operations.ts.hbs', view), prettierForm: renderer.isBuiltIn('core/operations.ts.hbs') },
      { path: 'index.ts', content: renderer.render('core/index.ts.hbs', { ...view, targets: options.targets }), prettierForm: renderer.isBuiltIn('core/index.ts.hbs') },
    ];
  },
};
