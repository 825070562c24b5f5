/**
 * Rules every Store adapter shares, so SQLite and MongoDB compare and page alike.
 */

/** The key names are compared by: the name lower-cased in JS (case-insensitive beyond ASCII, "Ärger" = "ärger"). */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** The page's row window; pages count from 1. */
export function pageWindow(page: number, pageSize: number): { limit: number; offset: number } {
  const limit = Math.max(0, Math.floor(pageSize));
  return { limit, offset: Math.max(0, Math.floor(page) - 1) * limit };
}
