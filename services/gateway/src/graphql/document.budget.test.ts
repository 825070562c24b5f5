import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { parse } from './graphql-js.js';
import { budgetRefusal, type DocumentBudget } from './document.budget.js';
import { doublingFragments } from '../../test/graphql/documents.js';

const BUDGET: DocumentBudget = { maxDepth: 8, maxCost: 5000, maxFragmentSpreads: 500 };

const refusal = (document: string, budget: DocumentBudget = BUDGET) => budgetRefusal(parse(document), budget);

describe('the document budget (checked before validation, linear in the document)', () => {
  it('lets ordinary documents through, fragments and introspection included', () => {
    expect(refusal('{ inferenceServices { items { id name status } pagination { total } } }')).toBeUndefined();
    expect(refusal('query { a: models { ...M } b: models { ...M } } fragment M on ModelPage { items { id versions { version } } }')).toBeUndefined();
    expect(refusal('{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }')).toBeUndefined();
  });

  it("lets the standard introspection query through (fragments on __Type: what GraphiQL sends), but not a deep real query in a fragment", () => {
    expect(refusal(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }))).toBeUndefined();
    const deep = 'query { ...Q } fragment Q on Query { models { items { versions { inputs { shape } } } } } ';
    expect(refusal(deep, { ...BUDGET, maxDepth: 3 })?.error).toMatchObject({ reason: 'depth_limit' });
    expect(refusal('{ __type(name: "Query") { ... on __Type { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }', { ...BUDGET, maxDepth: 1 })).toBeUndefined();
  });

  it('counts a fragment once per spread: exactly at the limit passes, one field more is refused', () => {
    // Each level doubles: F(n) = 3 + 2·F(n+1), F(last) = 3, so 4 levels expand to 3·(2^5 − 1) = 93 fields.
    expect(refusal(doublingFragments(4), { ...BUDGET, maxCost: 93 })).toBeUndefined();
    expect(refusal(doublingFragments(4), { ...BUDGET, maxCost: 92 })?.error).toMatchObject({ code: 40000, reason: 'cost_limit' });
  });

  it('refuses the 30-level doubling document (3·2^31 fields) by its cost, and saturates instead of overflowing at 200 levels', () => {
    const thirty = refusal(doublingFragments(30));
    expect(thirty?.error).toMatchObject({ code: 40000, reason: 'cost_limit' });
    expect(thirty?.error.localized.en).toMatch(/more than 5000 fields/);
    // 2^200 is past Number.MAX_SAFE_INTEGER (and 2^1100 past Infinity); saturation keeps the answer exact.
    const huge = refusal(doublingFragments(200), { ...BUDGET, maxFragmentSpreads: 1000 });
    expect(huge?.error).toMatchObject({ reason: 'cost_limit' });
    const beyondInfinity = refusal(doublingFragments(1100), { ...BUDGET, maxFragmentSpreads: 3000 })?.error;
    expect(beyondInfinity?.reason).toBe('cost_limit');
    expect(beyondInfinity?.localized.en).toBe(thirty?.error.localized.en); // no "Infinity", no 1e+331 in the message
  });

  it('caps the number of fragment spreads written in the document', () => {
    const error = refusal(doublingFragments(300))?.error;
    expect(error).toMatchObject({ code: 40000, reason: 'fragment_limit' });
    expect(error?.localized.en).toBe('The document contains 601 fragment spreads (...); the limit is 500.');
  });

  it('measures depth through fragments, without counting introspection fields', () => {
    const deep = refusal('query { models { ...M } } fragment M on ModelPage { items { versions { outputs { shape } } } }', { ...BUDGET, maxDepth: 4 });
    expect(deep?.error.localized.en).toMatch(/nested 5 levels deep; the limit is 4/);
    expect(deep?.node?.kind).toBe('OperationDefinition');
    expect(refusal('{ models { items { versions { version } } } }', { ...BUDGET, maxDepth: 4 })).toBeUndefined();
  });

  it('checks fragments that no operation uses, since validation walks them too', () => {
    const unused = `{ __typename } fragment Bomb on Query { ${'inferenceServices { items { id } } '.repeat(2000)} }`;
    expect(refusal(unused)?.error.reason).toBe('cost_limit');
  });

  it('stops at fragment cycles instead of recursing forever', () => {
    const direct = refusal('{ ...A } fragment A on Query { ...A }');
    expect(direct?.error).toMatchObject({ code: 40000, reason: 'fragment_cycle' });
    const indirect = refusal('{ ...A } fragment A on Query { models { items { ...B } } } fragment B on Model { ...C } fragment C on Model { ...B }');
    expect(indirect?.error.localized.en).toMatch(/Cannot spread fragment "B" within itself/);
  });
});
