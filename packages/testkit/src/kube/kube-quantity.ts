/**
 * Resource quantities (`100m`, `1.5`, `512Mi`, `1G`, `2e3`) as numbers: cpu in millicores, everything else in
 * base units. Enough of resource.Quantity for requests, limits and node capacity.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY = /^([+-]?[0-9.]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

/** The value in base units, or undefined when the text is not a quantity. */
export function parseQuantity(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  if (m[3] !== undefined) return n * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** cpu in millicores (rounded up, as the scheduler counts it), others in base units. */
export function quantityFor(resource: string, value: string | number | undefined): number {
  const parsed = parseQuantity(value) ?? 0;
  return resource === 'cpu' ? Math.ceil(parsed * 1000 - 1e-9) : parsed;
}

export function isQuantity(value: unknown): boolean {
  return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && parseQuantity(value) !== undefined);
}
