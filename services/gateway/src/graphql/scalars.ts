import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from './graphql-js.js';
import { GraphQLJSONObject } from 'graphql-scalars';

const SAFE_INT_DESCRIPTION =
  'An integer from -(2^53-1) to 2^53-1: exact in JSON/JavaScript, wider than GraphQL Int (32 bits). Used for byte counts.';

function notSafeInt(value: unknown): string {
  return `SafeInt must be an integer from -(2^53-1) to 2^53-1, got ${JSON.stringify(value) ?? String(value)}`;
}

/**
 * Byte counts (`memory`, `sizeBytes`) exceed GraphQL's 32-bit Int. This scalar carries them as JSON numbers
 * while refusing anything JavaScript cannot represent exactly, strings and fractions included, so a client
 * never gets a silently rounded value and the core validators see a real number.
 */
export const SafeInt = new GraphQLScalarType<number, number>({
  name: 'SafeInt',
  description: SAFE_INT_DESCRIPTION,
  serialize(value) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw new GraphQLError(notSafeInt(value));
  },
  parseValue(value) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw new GraphQLError(notSafeInt(value));
  },
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.INT) {
      const value = Number(ast.value);
      if (Number.isSafeInteger(value)) return value;
    }
    throw new GraphQLError(notSafeInt('value' in ast ? ast.value : ast.kind), { nodes: ast });
  },
});

/** Free-form JSON objects (predict `inputs` and `parameters`), validated by the same core rules as REST. */
export const JSONObject = GraphQLJSONObject;
