import 'reflect-metadata';
import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { parseCreateModel, parseCreateModelVersion, parseModelListQuery, parseModelVersionPatch, type Model, type ModelVersion } from '@remotegpu/core';
import { createModel, createModelVersion, deleteModel, deleteModelVersion, findModel, listModels, listModelVersions } from '../application/index.js';
import { given } from './arguments.js';
import type { GraphqlContext } from './context.js';
import { listComplexity, pagedComplexity } from './limits.js';
import { paginationOf } from './types/common.types.js';
import { updateModelVersion } from '../application/model-version.batching.js';
import { BatchingInput, CreateModelInput, CreateModelVersionFromUriInput, ModelPageType, ModelType, ModelVersionType } from './types/model.types.js';

/** The REST body's snake_case batching, as plain values for core's parser (type-graphql hands over class instances). */
function batchingBody(input: BatchingInput | null | undefined): unknown {
  if (!input) return input;
  return {
    max_batch_size: input.maxBatchSize,
    ...(input.maxQueueDelayMs != null ? { max_queue_delay_ms: input.maxQueueDelayMs } : {}),
    ...(input.preferredBatchSizes != null ? { preferred_batch_sizes: input.preferredBatchSizes } : {}),
  };
}

/** Expected number of versions of a model, for the cost estimate. */
const EXPECTED_VERSIONS = 10;

/** Thin entry points over the model use cases; inputs run through the REST body's core validators. */
@Resolver(() => ModelType)
export class ModelResolver {
  @Query(() => ModelType, { nullable: true, description: 'Null when the model does not exist or is not visible to this token.' })
  async model(@Arg('id', () => Int) id: number, @Ctx() ctx: GraphqlContext): Promise<Model | null> {
    return findModel(ctx.deps, ctx.principal, id);
  }

  @Query(() => ModelPageType, { complexity: pagedComplexity, description: 'Newest first; pageSize defaults to 20, capped at 100.' })
  async models(
    @Ctx() ctx: GraphqlContext,
    @Arg('page', () => Int, { nullable: true }) page?: number | null,
    @Arg('pageSize', () => Int, { nullable: true }) pageSize?: number | null,
    @Arg('workspaceId', () => Int, { nullable: true }) workspaceId?: number | null,
  ): Promise<{ items: Model[]; pagination: ReturnType<typeof paginationOf> }> {
    const query = parseModelListQuery({ page: given(page), page_size: given(pageSize), workspace_id: given(workspaceId) });
    const { items, total } = await listModels(ctx.deps, ctx.principal, query);
    return { items, pagination: paginationOf(total, query.page, query.pageSize) };
  }

  @FieldResolver(() => [ModelVersionType], { complexity: listComplexity(EXPECTED_VERSIONS), description: 'Oldest first.' })
  async versions(@Root() model: Model, @Ctx() ctx: GraphqlContext): Promise<ModelVersion[]> {
    return listModelVersions(ctx.deps, model);
  }

  @Mutation(() => ModelType)
  async createModel(@Arg('input', () => CreateModelInput) input: CreateModelInput, @Ctx() ctx: GraphqlContext): Promise<Model> {
    const parsed = parseCreateModel({
      name: input.name,
      workspace_id: input.workspaceId,
      framework: input.framework,
      task: input.task,
      description: input.description,
    });
    return createModel(ctx.deps, ctx.principal, parsed);
  }

  @Mutation(() => ModelVersionType, {
    description:
      'Registers a version from an artifact URI (file:// below an allowed root, or http(s)://); the artifact must load as an ONNX image classifier. Uploading a file is REST-only (multipart).',
  })
  async createModelVersionFromUri(
    @Arg('modelId', () => Int) modelId: number,
    @Arg('input', () => CreateModelVersionFromUriInput) input: CreateModelVersionFromUriInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<ModelVersion> {
    const parsed = parseCreateModelVersion(
      {
        version: input.version,
        artifact_uri: input.artifactUri,
        labels: input.labels,
        // Plain values: the core checks `{mean, std, size}` by shape, and type-graphql hands over class instances.
        preprocessing: input.preprocessing
          ? { mean: input.preprocessing.mean ?? undefined, std: input.preprocessing.std ?? undefined, size: input.preprocessing.size ?? undefined }
          : input.preprocessing,
        batching: batchingBody(input.batching),
      },
      { requireUri: true },
    );
    return createModelVersion(ctx.deps, ctx.principal, modelId, parsed, { kind: 'uri', uri: parsed.artifactUri! });
  }

  @Mutation(() => ModelVersionType, {
    description: "Sets a version's dynamic batching (null turns it off), as PATCH /api/v1/models/{id}/versions/{version}; 422 when the model's batch dimension is fixed at 1.",
  })
  async updateModelVersionBatching(
    @Arg('modelId', () => Int) modelId: number,
    @Arg('version', () => String) version: string,
    @Arg('batching', () => BatchingInput, { nullable: true }) batching: BatchingInput | null | undefined,
    @Ctx() ctx: GraphqlContext,
  ): Promise<ModelVersion> {
    return updateModelVersion(ctx.deps, ctx.principal, modelId, version, parseModelVersionPatch({ batching: batchingBody(batching) ?? null }));
  }

  @Mutation(() => Boolean, {
    description: 'Deletes the model, its versions and their stored artifacts. Fails with 40900 while a live service uses any version.',
  })
  async deleteModel(@Arg('id', () => Int) id: number, @Ctx() ctx: GraphqlContext): Promise<boolean> {
    await deleteModel(ctx.deps, ctx.principal, id);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Deletes one version and its stored artifact. Fails with 40900 while a live service uses it.' })
  async deleteModelVersion(
    @Arg('modelId', () => Int) modelId: number,
    @Arg('version', () => String) version: string,
    @Ctx() ctx: GraphqlContext,
  ): Promise<boolean> {
    await deleteModelVersion(ctx.deps, ctx.principal, modelId, version);
    return true;
  }
}
