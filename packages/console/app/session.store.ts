/** The signed-in token and the chosen language. The token lives in sessionStorage: gone when the tab closes. */
export type Lang = 'zh' | 'en';

const TOKEN_KEY = 'rgpu.token';
const LANG_KEY = 'rgpu.lang';

export interface TokenClaims {
  sub?: string;
  workspaces: number[];
  admin: boolean;
  exp?: number;
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export function getLang(): Lang {
  return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
}

export function setLang(lang: Lang): void {
  localStorage.setItem(LANG_KEY, lang);
}

/**
 * The token's claims, read without verifying (the server verifies every call): only to preselect a workspace in
 * forms. A malformed token gives empty claims, and the API's 401 then says why.
 */
export function readClaims(token: string | null): TokenClaims {
  try {
    const payload = token?.split('.')[1];
    if (!payload) return { workspaces: [], admin: false };
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const workspaces = Array.isArray(json.workspaces) ? json.workspaces.filter((w): w is number => typeof w === 'number') : [];
    return {
      sub: typeof json.sub === 'string' ? json.sub : undefined,
      workspaces,
      admin: json.admin === true,
      exp: typeof json.exp === 'number' ? json.exp : undefined,
    };
  } catch {
    return { workspaces: [], admin: false };
  }
}
