/** A GraphQL `null` argument means "not given", as an absent REST query parameter does. */
export function given<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}
