/** Placeholder until the OpenAPI documents kubectl needs are written (kube-openapi.ts is replaced below). */
export function openApiV2(): object | undefined {
  return undefined;
}
export function openApiV3Index(): object | undefined {
  return undefined;
}
export function openApiV3Document(_path: string): object | undefined {
  return undefined;
}
