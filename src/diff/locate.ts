import jsYaml from 'js-yaml';
import { parsePointer } from '../load/pointer.js';
import type { SourceFile } from '../load/source-file.js';

type Position = { line: number; column: number };

interface Frame {
  line: number;
  column: number;
  kind?: string;
  result?: unknown;
  children: Frame[];
  /** Key → index of the key in `children`, built on first look-up. */
  keys?: Map<string, number>;
}

/**
 * Line and column of JSON pointers in one file, for findings. `SourceFile.locate` builds a full
 * `yaml` document (with its concrete syntax tree) on first use, which costs seconds on a large
 * document; this index records where each node starts while js-yaml parses the text once
 * (its `listener` hook), so positions cost about one fast parse. A text it cannot index falls
 * back to `SourceFile.locate`; test/diff/locate.test.ts checks both agree.
 */
export class PositionIndex {
  private root?: Frame | null;

  constructor(private readonly file: SourceFile) {}

  locate(pointer: string): Position | undefined {
    if (this.root === undefined) this.root = parse(this.file.text);
    if (!this.root) return this.file.locate(pointer);
    let segments: string[];
    try {
      segments = parsePointer(pointer);
    } catch {
      return undefined;
    }
    // Walk down as far as the pointer exists in this version: the old side of an addition is
    // placed at its nearest existing ancestor, as SourceFile.locate does.
    let frame = unwrap(this.root);
    let position: Position = { line: frame.line, column: frame.column };
    for (const segment of segments) {
      const next = childOf(frame, segment);
      if (!next) break;
      position = { line: next.position.line, column: next.position.column };
      frame = unwrap(next.frame);
    }
    return position;
  }
}

/** Parses once with js-yaml, recording where every node starts; null when the text cannot be indexed. */
function parse(text: string): Frame | null {
  const stack: Frame[] = [];
  let root: Frame | undefined;
  try {
    jsYaml.load(text, {
      schema: jsYaml.CORE_SCHEMA,
      listener(event, state) {
        if (event === 'open') {
          stack.push({ line: state.line + 1, column: state.position - state.lineStart + 1, children: [] });
          return;
        }
        const frame = stack.pop();
        if (!frame) throw new Error('unbalanced');
        frame.kind = state.kind ?? undefined;
        frame.result = state.result;
        const parent = stack[stack.length - 1];
        if (parent) parent.children.push(frame);
        else root = frame;
      },
    });
  } catch {
    return null;
  }
  return root && stack.length === 0 ? root : null;
}

/** A flow collection is reported twice (the node, then the collection read inside it). */
function unwrap(outer: Frame): Frame {
  let frame = outer;
  while (frame.children.length === 1 && frame.children[0]!.kind === frame.kind && frame.children[0]!.result === frame.result) frame = frame.children[0]!;
  return frame;
}

/** The child at a segment, and where it is reported: a mapping entry at its key, a sequence item at its start. */
function childOf(frame: Frame, segment: string): { frame: Frame; position: Frame } | undefined {
  if (frame.kind === 'mapping') {
    if (frame.children.length % 2 !== 0) return undefined;
    frame.keys ??= new Map();
    if (frame.keys.size === 0) {
      for (let i = frame.children.length - 2; i >= 0; i -= 2) {
        const key = frame.children[i]!;
        if (key.kind === 'scalar') frame.keys.set(String(key.result), i);
      }
    }
    const index = frame.keys.get(segment);
    return index === undefined ? undefined : { frame: frame.children[index + 1]!, position: frame.children[index]! };
  }
  if (frame.kind === 'sequence' && /^(0|[1-9]\d*)$/.test(segment)) {
    const item = frame.children[Number(segment)];
    return item ? { frame: item, position: item } : undefined;
  }
  return undefined;
}
