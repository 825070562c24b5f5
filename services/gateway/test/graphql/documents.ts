/**
 * The document of issue 6, point 1: each fragment spreads the next one twice, so `levels` levels expand to
 * 2^levels copies of the root field in about 90 bytes a level. On `Subscription` it is a subscription document.
 */
export function doublingFragments(levels: number, root: 'Query' | 'Subscription' = 'Query'): string {
  const field = root === 'Query' ? 'inferenceServices{items{id}}' : 'inferenceServiceStatusChanged{status}';
  let document = `${root === 'Query' ? 'query' : 'subscription'}{...F0}`;
  for (let i = 0; i < levels; i++) document += ` fragment F${i} on ${root}{${field} ...F${i + 1} ...F${i + 1}}`;
  return `${document} fragment F${levels} on ${root}{${field}}`;
}
