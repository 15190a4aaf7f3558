import { childNode, isRecord, type SchemaNode } from './node.js';
import { effectiveAtoms, pairwiseDisjoint } from './relations.js';
import type { Canonicalizer } from './canonical.js';

export interface BranchPlan {
  /** [old index, new index] of matched branches (compared recursively). */
  pairs: Array<[number, number]>;
  /** Old branches with no counterpart. */
  removed: number[];
  /** New branches with no counterpart. */
  added: number[];
  oldNodes: SchemaNode[];
  newNodes: SchemaNode[];
  /** For oneOf: both versions' branches are provably pairwise disjoint (oneOf behaves as anyOf). */
  exclusive: boolean;
}

/**
 * Matches the branches of `allOf`/`anyOf`/`oneOf` across versions: identical branches first
 * (so reordering is no change), then the most similar ones (same types, shared property names),
 * and a single leftover on each side is taken as the same branch, modified.
 */
export function pairBranches(pair: { old: SchemaNode; new: SchemaNode; canon: Canonicalizer }, keyword: string, oldList: unknown[], newList: unknown[]): BranchPlan {
  const oldNodes = oldList.map((branch, i) => childNode(pair.old, branch, keyword, i));
  const newNodes = newList.map((branch, i) => childNode(pair.new, branch, keyword, i));
  const oldLeft = new Set(oldNodes.keys());
  const newLeft = new Set(newNodes.keys());
  const pairs: Array<[number, number]> = [];
  const oldText = oldNodes.map((n) => pair.canon.of(n));
  const newText = newNodes.map((n) => pair.canon.of(n));
  for (const o of [...oldLeft]) {
    for (const n of newLeft) {
      if (oldText[o] === newText[n] && oldNodes[o]!.isFalse === newNodes[n]!.isFalse) {
        pairs.push([o, n]);
        oldLeft.delete(o);
        newLeft.delete(n);
        break;
      }
    }
  }
  // Greedy best-similarity matching for the rest.
  const scored: Array<{ o: number; n: number; score: number }> = [];
  for (const o of oldLeft) for (const n of newLeft) scored.push({ o, n, score: similarity(oldNodes[o]!, newNodes[n]!) });
  scored.sort((a, b) => b.score - a.score || a.o - b.o || a.n - b.n);
  for (const { o, n, score } of scored) {
    if (!oldLeft.has(o) || !newLeft.has(n)) continue;
    if (score < 0.5 && !(oldLeft.size === 1 && newLeft.size === 1)) continue;
    pairs.push([o, n]);
    oldLeft.delete(o);
    newLeft.delete(n);
  }
  pairs.sort((a, b) => a[1] - b[1]);
  const exclusive = keyword === 'oneOf' ? pairwiseDisjoint(oldNodes, pair.old) && pairwiseDisjoint(newNodes, pair.new) : true;
  return { pairs, removed: [...oldLeft].sort((a, b) => a - b), added: [...newLeft].sort((a, b) => a - b), oldNodes, newNodes, exclusive };
}

/** 0..1: how likely two branches are the same branch in two versions. */
function similarity(a: SchemaNode, b: SchemaNode): number {
  const ta = effectiveAtoms(a);
  const tb = effectiveAtoms(b);
  const commonTypes = [...ta].filter((t) => tb.has(t)).length;
  const typeScore = commonTypes / Math.max(1, new Set([...ta, ...tb]).size);
  const pa = isRecord(a.schema.properties) ? Object.keys(a.schema.properties) : [];
  const pb = isRecord(b.schema.properties) ? Object.keys(b.schema.properties) : [];
  if (pa.length === 0 && pb.length === 0) return typeScore;
  const common = pa.filter((p) => pb.includes(p)).length;
  const propertyScore = common / Math.max(1, new Set([...pa, ...pb]).size);
  return typeScore * 0.4 + propertyScore * 0.6;
}
