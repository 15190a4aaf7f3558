import { documentError, type SourceLocation } from '../errors.js';
import { resolveRefTarget, valueAt, type DocumentSet, type NodeRef } from './document-set.js';
import { isRecord } from './json.js';
import { appendPointer } from './pointer.js';

/** A value and where it is written. */
export interface Located<T = unknown> {
  value: T;
  at: NodeRef;
}

const MAX_REF_CHAIN = 64;

/** Walks a document set, following `$ref`s across files while keeping every value's location. */
export class DocumentReader {
  constructor(readonly set: DocumentSet) {}

  root(): Located {
    return { value: this.set.root.data, at: { file: this.set.root, pointer: '' } };
  }

  /** Follows a chain of `$ref`s to the value it names. */
  resolve(node: Located): Located {
    let current = node;
    for (let hops = 0; hops < MAX_REF_CHAIN; hops++) {
      const ref = refOf(current.value);
      if (ref === undefined) return current;
      const target = resolveRefTarget(this.set, current.at.file, ref);
      const value = target ? valueAt(target) : undefined;
      if (!target || value === undefined) {
        throw documentError('E_REF_UNRESOLVED', `unresolvable $ref "${ref}"`, this.origin({ value: current.value, at: { ...current.at, pointer: appendPointer(current.at.pointer, '$ref') } }, true));
      }
      current = { value, at: target };
    }
    throw documentError('E_REF_CYCLE', 'a $ref chain loops without reaching a value', this.origin(node, true));
  }

  /** The child at `key`, resolved. Undefined when absent. */
  child(node: Located, key: string | number): Located | undefined {
    const value = node.value;
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    const child = (value as Record<string, unknown>)[key as string];
    if (child === undefined) return undefined;
    return this.resolve({ value: child, at: { file: node.at.file, pointer: appendPointer(node.at.pointer, key) } });
  }

  /** The child at `key` without following a `$ref` it may hold. */
  rawChild(node: Located, key: string | number): Located | undefined {
    const value = node.value;
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    return { value: (value as Record<string, unknown>)[key as string], at: { file: node.at.file, pointer: appendPointer(node.at.pointer, key) } };
  }

  /** Entries of an object child, each resolved, in document order. */
  entries(node: Located | undefined): Array<[string, Located]> {
    if (!node || !isRecord(node.value)) return [];
    return Object.keys(node.value).map((key) => [key, this.child(node, key)!] as [string, Located]).filter(([, v]) => v !== undefined);
  }

  /** Items of an array child, each resolved. */
  items(node: Located | undefined): Located[] {
    if (!node || !Array.isArray(node.value)) return [];
    return node.value.map((_, index) => this.child(node, index)!).filter((v) => v !== undefined);
  }

  origin(node: Located, withLine = false): SourceLocation {
    const origin: SourceLocation = { file: node.at.file.displayPath, pointer: node.at.pointer };
    if (withLine) {
      const position = node.at.file.locate(node.at.pointer);
      if (position) Object.assign(origin, position);
    }
    return origin;
  }

  /** A stable key for a location: same file and pointer, same key. */
  key(node: Located): string {
    return `${node.at.file.id}#${node.at.pointer}`;
  }
}

export function refOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.$ref === 'string' ? value.$ref : undefined;
}


export function stringField(value: unknown, key: string): string | undefined {
  if (!isRecord(value)) return undefined;
  const field = value[key];
  return typeof field === 'string' ? field : undefined;
}
