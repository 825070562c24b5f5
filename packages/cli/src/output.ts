import type { Context } from './context.js';

/** `--json` prints the API's `data` as is (stable for scripts); otherwise the human rendering. */
export function emit(ctx: Context, data: unknown, human: () => string): void {
  ctx.out(ctx.json ? JSON.stringify(data ?? null, null, 2) + '\n' : human());
}

export function gib(bytes: number): string {
  return `${+(bytes / 1024 ** 3).toFixed(2)}Gi`;
}

export function shortTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '';
}
