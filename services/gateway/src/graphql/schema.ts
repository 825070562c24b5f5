import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from './graphql-js.js';
import { buildSchema } from 'type-graphql';
import { ModelResolver } from './model.resolver.js';
import { PredictResolver } from './predict.resolver.js';
import { InferenceServiceResolver } from './service.resolver.js';

/**
 * Every resolver class of the API. TODO(subscriptions, next issue): add the `Subscription` resolver
 * (`inferenceServiceStatusChanged`, DESIGN §4) here and pass its PubSub through `GatewaySchemaOptions.pubSub`;
 * type-graphql refuses to build a schema with `@Subscription` handlers and no `pubSub`.
 */
const RESOLVERS = [InferenceServiceResolver, ModelResolver, PredictResolver] as const;

export interface GatewaySchemaOptions {
  /** TODO(subscriptions): `pubSub: PubSub` (from `@graphql-yoga/subscription`, fed by the EventBus). */
}

/**
 * Builds the executable schema from the type-graphql classes. `validate: false`: inputs are validated by the
 * core `parse*` functions (the same ones REST uses), not by class-validator.
 */
export async function buildGatewaySchema(_options: GatewaySchemaOptions = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    validate: false,
  });
}

const HEADER = '# Generated from the type-graphql classes in services/gateway/src/graphql. Do not edit: run `npm run schema`.\n\n';

/** The SDL checked in as `schema.graphql`, sorted so the output does not depend on declaration order. */
export async function printGatewaySchema(): Promise<string> {
  return HEADER + printSchema(lexicographicSortSchema(await buildGatewaySchema())) + '\n';
}
