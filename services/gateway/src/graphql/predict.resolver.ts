import 'reflect-metadata';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { parsePredict } from '@remotegpu/core';
import { predict } from '../application/index.js';
import type { GraphqlContext } from './context.js';
import { JSONObject } from './scalars.js';
import { PredictResultType } from './types/predict.types.js';

@Resolver()
export class PredictResolver {
  /**
   * `inputs` and `parameters` are the REST predict body's objects verbatim (`{image}`, `{top_k}`), validated by
   * the same core parser, so a field error names `inputs.image` or `parameters.top_k` on both ways in.
   */
  @Mutation(() => PredictResultType, {
    description: 'inputs: {"image": "<base64 PNG/JPEG/WebP>"}; parameters: {"top_k": 5}. Same rules as REST predict.',
  })
  async predict(
    @Arg('serviceId', () => ID) serviceId: string,
    @Arg('inputs', () => JSONObject) inputs: Record<string, unknown>,
    @Ctx() ctx: GraphqlContext,
    @Arg('parameters', () => JSONObject, { nullable: true }) parameters?: Record<string, unknown> | null,
  ): Promise<PredictResultType> {
    const parsed = parsePredict({ inputs, parameters });
    const call = { language: ctx.language, requestId: ctx.trace?.requestId, authorization: ctx.authorization };
    return { predictions: await predict(ctx.deps, ctx.principal, serviceId, parsed, call) };
  }
}
