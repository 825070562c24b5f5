import { badRequest } from './kube-status.js';
import type { LabelSelectorSpec } from './kube.types.js';

/**
 * Label and field selectors with the grammar of k8s.io/apimachinery (labels.Parse, fields.ParseSelector):
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`; field selectors take `=`, `==`, `!=`.
 * Parsing is one pass over the input (client input, linear time).
 */

export type LabelRequirement =
  | { key: string; op: 'in'; values: string[] }
  | { key: string; op: 'notin'; values: string[] }
  | { key: string; op: 'exists' }
  | { key: string; op: 'doesnotexist' };

export type LabelSelector = LabelRequirement[];

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
    }
  });
}

const KEY_CHAR = /[A-Za-z0-9._\-/]/;

export function parseLabelSelector(input: string | undefined): LabelSelector {
  const text = (input ?? '').trim();
  if (!text) return [];
  const out: LabelSelector = [];
  let i = 0;
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why}`);
  const skipSpaces = () => {
    while (i < text.length && text[i] === ' ') i++;
  };
  const readWord = () => {
    const start = i;
    while (i < text.length && KEY_CHAR.test(text[i])) i++;
    return text.slice(start, i);
  };
  while (i < text.length) {
    skipSpaces();
    let negated = false;
    if (text[i] === '!') {
      negated = true;
      i++;
      skipSpaces();
    }
    const key = readWord();
    if (!key) throw fail(`found '${text[i] ?? ''}', expected: identifier`);
    skipSpaces();
    if (negated) {
      out.push({ key, op: 'doesnotexist' });
    } else if (i >= text.length || text[i] === ',') {
      out.push({ key, op: 'exists' });
    } else if (text.startsWith('!=', i) || text.startsWith('==', i) || text[i] === '=') {
      const op = text.startsWith('!=', i) ? 'notin' : 'in';
      i += text.startsWith('==', i) || op === 'notin' ? 2 : 1;
      skipSpaces();
      const value = readWord();
      out.push({ key, op, values: [value] });
    } else {
      const word = readWord();
      if (word !== 'in' && word !== 'notin') throw fail(`found '${word || text[i]}', expected: in, notin, =, ==, !=, gt, lt`);
      skipSpaces();
      if (text[i] !== '(') throw fail(`found '${text[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        skipSpaces();
        values.push(readWord());
        skipSpaces();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ')') {
          i++;
          break;
        }
        throw fail(`found '${text[i] ?? ''}', expected: ',', ')'`);
      }
      out.push({ key, op: word, values });
    }
    skipSpaces();
    if (i < text.length) {
      if (text[i] !== ',') throw fail(`found '${text[i]}', expected: ','`);
      i++;
    }
  }
  return out;
}

/** A `metav1.LabelSelector` (matchLabels/matchExpressions) as requirements; an empty one matches everything. */
export function fromLabelSelectorSpec(spec: LabelSelectorSpec | undefined): LabelSelector {
  const out: LabelSelector = [];
  for (const [key, value] of Object.entries(spec?.matchLabels ?? {})) out.push({ key, op: 'in', values: [value] });
  for (const e of spec?.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        out.push({ key: e.key, op: 'in', values: e.values ?? [] });
        break;
      case 'NotIn':
        out.push({ key: e.key, op: 'notin', values: e.values ?? [] });
        break;
      case 'Exists':
        out.push({ key: e.key, op: 'exists' });
        break;
      case 'DoesNotExist':
        out.push({ key: e.key, op: 'doesnotexist' });
        break;
    }
  }
  return out;
}

export function labelSelectorString(spec: LabelSelectorSpec | undefined): string {
  return fromLabelSelectorSpec(spec)
    .map((r) => {
      switch (r.op) {
        case 'in':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case 'doesnotexist':
          return `!${r.key}`;
      }
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  value: string;
  negated: boolean;
}

/** `metadata.name=x,status.phase!=Running` (backslash escapes `,`, `=`, `!` and `\` as in fields.ParseSelector). */
export function parseFieldSelector(input: string | undefined): FieldRequirement[] {
  const text = input ?? '';
  if (!text.trim()) return [];
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts.map((part) => {
    // One scan for the operator (a regex with a lazy key could backtrack quadratically on client input).
    let at = -1;
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '\\') i++;
      else if (part[i] === '=' || (part[i] === '!' && part[i + 1] === '=')) {
        at = i;
        break;
      }
    }
    const field = at > 0 ? part.slice(0, at).trim() : '';
    if (!field) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const op = part.startsWith('!=', at) ? '!=' : part.startsWith('==', at) ? '==' : '=';
    return { field, negated: op === '!=', value: part.slice(at + op.length).trim().replace(/\\(.)/g, '$1') };
  });
}
