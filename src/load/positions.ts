import jsYaml from 'js-yaml';
import { parsePointer } from './pointer.js';

export type Position = { line: number; column: number };

/** Where one YAML node starts, and its children (a mapping's keys and values alternate). */
export interface PositionNode {
  line: number;
  column: number;
  kind?: string;
  result?: unknown;
  children: PositionNode[];
  /** Key → index of the key in `children`, built on first look-up. */
  keys?: Map<string, number>;
}

/**
 * js-yaml's `listener` hook, recording where every node starts while the text is parsed. `root()` is
 * null when the events did not nest as expected (the text is then not indexed; nothing is thrown, so
 * the parse itself goes on unchanged).
 */
export function positionRecorder(): { listener: (event: 'open' | 'close', state: jsYaml.State) => void; root: () => PositionNode | null } {
  const stack: PositionNode[] = [];
  let root: PositionNode | undefined;
  let broken = false;
  const listener = (event: 'open' | 'close', state: jsYaml.State) => {
    if (event === 'open') {
      stack.push({ line: state.line + 1, column: state.position - state.lineStart + 1, children: [] });
      return;
    }
    const node = stack.pop();
    if (!node) {
      broken = true;
      return;
    }
    node.kind = state.kind ?? undefined;
    node.result = state.result;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
  };
  return { listener, root: () => (root && !broken && stack.length === 0 ? root : null) };
}

/** Parses a text only to index it (js-yaml, YAML 1.2 core schema); null when it cannot be indexed. */
export function indexPositions(text: string): PositionNode | null {
  const recorder = positionRecorder();
  try {
    jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, listener: recorder.listener });
  } catch {
    return null;
  }
  return recorder.root();
}

/**
 * Line and column of a JSON pointer in an indexed text: a mapping entry at its key, a sequence item at
 * its start. A pointer that goes beyond what exists is placed at its nearest existing ancestor, as
 * `SourceFile.locate` does. Undefined for a malformed pointer.
 */
export function positionAt(root: PositionNode, pointer: string): Position | undefined {
  let segments: string[];
  try {
    segments = parsePointer(pointer);
  } catch {
    return undefined;
  }
  let node = unwrap(root);
  let position: Position = { line: node.line, column: node.column };
  for (const segment of segments) {
    const next = childOf(node, segment);
    if (!next) break;
    position = { line: next.position.line, column: next.position.column };
    node = unwrap(next.node);
  }
  return position;
}

/** A flow collection is reported twice (the node, then the collection read inside it). */
function unwrap(outer: PositionNode): PositionNode {
  let node = outer;
  while (node.children.length === 1 && node.children[0]!.kind === node.kind && node.children[0]!.result === node.result) node = node.children[0]!;
  return node;
}

function childOf(node: PositionNode, segment: string): { node: PositionNode; position: PositionNode } | undefined {
  if (node.kind === 'mapping') {
    if (node.children.length % 2 !== 0) return undefined;
    node.keys ??= new Map();
    if (node.keys.size === 0) {
      for (let i = node.children.length - 2; i >= 0; i -= 2) {
        const key = node.children[i]!;
        if (key.kind === 'scalar') node.keys.set(String(key.result), i);
      }
    }
    const index = node.keys.get(segment);
    return index === undefined ? undefined : { node: node.children[index + 1]!, position: node.children[index]! };
  }
  if (node.kind === 'sequence' && /^(0|[1-9]\d*)$/.test(segment)) {
    const item = node.children[Number(segment)];
    return item ? { node: item, position: item } : undefined;
  }
  return undefined;
}
