import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from './graphql-js.js';
import { buildSchema, type PubSub } from 'type-graphql';
import { StatusFanout } from '../events/status-fanout.js';
import { LogsResolver } from './logs.resolver.js';
import { ModelResolver } from './model.resolver.js';
import { PredictResolver } from './predict.resolver.js';
import { InferenceServiceResolver } from './service.resolver.js';
import { StatusSubscriptionResolver } from './status.subscription.js';

/** Every resolver class of the API. */
const RESOLVERS = [InferenceServiceResolver, ModelResolver, PredictResolver, StatusSubscriptionResolver, LogsResolver] as const;

export interface GatewaySchemaOptions {
  /**
   * Where `@Subscription` resolvers listen: the gateway's StatusFanout, fed by the EventBus. type-graphql refuses
   * to build a schema with subscriptions and no `pubSub`.
   */
  pubSub: PubSub;
}

/**
 * Builds the executable schema from the type-graphql classes. `validate: false`: inputs are validated by the
 * core `parse*` functions (the same ones REST uses), not by class-validator.
 */
export async function buildGatewaySchema(options: GatewaySchemaOptions): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    pubSub: options.pubSub,
    validate: false,
  });
}

const HEADER = '# Generated from the type-graphql classes in services/gateway/src/graphql. Do not edit: run `npm run schema`.\n\n';

/** The SDL checked in as `schema.graphql`, sorted so the output does not depend on declaration order. */
export async function printGatewaySchema(): Promise<string> {
  // Printing never publishes: an unconnected fan-out satisfies type-graphql.
  const schema = await buildGatewaySchema({ pubSub: new StatusFanout() });
  return HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}
