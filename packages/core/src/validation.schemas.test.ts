import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { parseCreateModel, parseCreateModelVersion, parseCreateService, parseServiceListQuery, QUERY_PARAMETERS, REQUEST_SCHEMAS } from './validation.js';

/** The published schemas are the tables the parse functions check with: what one says, the other does. */

function problems(run: () => unknown): Record<string, string> {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return Object.fromEntries(err.fields.map((f) => [f.field, f.message.en]));
    throw err;
  }
  return {};
}

type ObjectSchema = { required?: string[]; properties: Record<string, { default?: unknown; maximum?: number; enum?: string[] }> };
const schema = (name: string) => REQUEST_SCHEMAS[name] as unknown as ObjectSchema;

describe('REQUEST_SCHEMAS', () => {
  it.each([
    ['CreateServiceRequest', (b: unknown) => parseCreateService(b)],
    ['CreateModelRequest', (b: unknown) => parseCreateModel(b)],
    ['CreateModelVersionRequest', (b: unknown) => parseCreateModelVersion(b, { requireUri: true })],
    ['CreateModelVersionForm', (b: unknown) => parseCreateModelVersion(b, { fromForm: true })],
  ])('%s: `required` is exactly what an empty body is told "is required"', (name, parse) => {
    const missing = Object.entries(problems(() => parse({}))).filter(([, m]) => m === 'is required').map(([f]) => f);
    expect(missing.sort()).toEqual([...(schema(name).required ?? [])].sort());
  });

  it('publishes the defaults the parser fills in and the bounds it enforces', () => {
    const props = schema('CreateServiceRequest').properties;
    const parsed = parseCreateService({ name: 'a', workspace_id: 1, model_id: 1, model_version: 'v1' });
    expect({ cpu: props.cpu!.default, memory: props.memory!.default, gpu: props.gpu!.default, replicas: props.replicas!.default }).toEqual({
      cpu: parsed.cpu,
      memory: parsed.memory,
      gpu: parsed.gpu,
      replicas: parsed.replicas,
    });
    const max = props.replicas!.maximum!;
    expect(problems(() => parseCreateService({ name: 'a', workspace_id: 1, model_id: 1, model_version: 'v1', replicas: max }))).toEqual({});
    expect(Object.keys(problems(() => parseCreateService({ name: 'a', workspace_id: 1, model_id: 1, model_version: 'v1', replicas: max + 1 })))).toEqual(['replicas']);
  });

  it('lists the query parameters the list parser reads, with its enum', () => {
    const params = QUERY_PARAMETERS.serviceList;
    expect(params.map((p) => p.name)).toEqual(['page', 'page_size', 'workspace_id', 'status', 'name']);
    for (const status of params.find((p) => p.name === 'status')!.schema.enum as string[]) {
      expect(parseServiceListQuery({ status }).status).toBe(status);
    }
    expect(Object.keys(problems(() => parseServiceListQuery({ status: 'nope', page: '0' })))).toEqual(['page', 'status']);
  });
});
