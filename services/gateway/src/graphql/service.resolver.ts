import 'reflect-metadata';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import {
  endpointUrl,
  eventMessageIn,
  statusMessageIn,
  parseCreateService,
  parseServiceListQuery,
  parseUpdateService,
  type InferenceService,
  type ReplicaState,
  type ServiceEvent,
  type ServiceStatus,
} from '@remotegpu/core';
import {
  createService,
  idempotencyClaim,
  deleteService,
  findService,
  listServiceEvents,
  listServices,
  startService,
  stopService,
  updateService,
} from '../application/index.js';
import { given } from './arguments.js';
import type { GraphqlContext } from './context.js';
import { listComplexity, pagedComplexity } from './limits.js';
import { paginationOf, ServiceStatusEnum } from './types/common.types.js';
import {
  CreateInferenceServiceInput,
  InferenceServicePageType,
  InferenceServiceType,
  ReplicaStateType,
  ServiceEventType,
  UpdateInferenceServiceInput,
} from './types/service.types.js';

/** Expected length of a service's history, for the cost estimate. */
const EXPECTED_EVENTS = 20;
const EXPECTED_REPLICAS = 4;

/**
 * Thin entry points over the application use cases. Inputs are translated to the REST body (snake_case) and
 * validated by the same core `parse*` function as the REST route, so both give the same 400s with the same
 * field names (`model_version`, not `modelVersion`).
 */
@Resolver(() => InferenceServiceType)
export class InferenceServiceResolver {
  @Query(() => InferenceServiceType, { nullable: true, description: 'Null when the service does not exist or is not visible to this token.' })
  async inferenceService(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<InferenceService | null> {
    return findService(ctx.deps, ctx.principal, id);
  }

  @Query(() => InferenceServicePageType, { complexity: pagedComplexity, description: 'Newest first; pageSize defaults to 20, capped at 100.' })
  async inferenceServices(
    @Ctx() ctx: GraphqlContext,
    @Arg('page', () => Int, { nullable: true }) page?: number | null,
    @Arg('pageSize', () => Int, { nullable: true }) pageSize?: number | null,
    @Arg('workspaceId', () => Int, { nullable: true }) workspaceId?: number | null,
    @Arg('status', () => ServiceStatusEnum, { nullable: true }) status?: ServiceStatus | null,
    @Arg('name', () => String, { nullable: true, description: 'Case-insensitive substring of the name.' }) name?: string | null,
  ): Promise<{ items: InferenceService[]; pagination: ReturnType<typeof paginationOf> }> {
    const query = parseServiceListQuery({
      page: given(page),
      page_size: given(pageSize),
      workspace_id: given(workspaceId),
      status: given(status),
      name: given(name),
    });
    const { items, total } = await listServices(ctx.deps, ctx.principal, query);
    return { items, pagination: paginationOf(total, query.page, query.pageSize) };
  }

  @FieldResolver(() => String, { description: 'Where predictions go: POST {endpointUrl}/predict, or OIP v2 under {endpointUrl}/v2.' })
  endpointUrl(@Root() service: InferenceService, @Ctx() ctx: GraphqlContext): string {
    return endpointUrl(ctx.deps.publicUrl, service.id);
  }

  @FieldResolver(() => [ReplicaStateType], {
    complexity: listComplexity(EXPECTED_REPLICAS),
    description: 'Each replica as the provisioner last saw it, sorted by id (at most 64).',
  })
  replicaStates(@Root() service: InferenceService): ReplicaState[] {
    // Records written before replica states existed have none until the next reconcile writes them.
    return service.replicaStates ?? [];
  }

  @FieldResolver(() => [ServiceEventType], { complexity: listComplexity(EXPECTED_EVENTS), description: 'Lifecycle history, oldest first.' })
  async events(@Root() service: InferenceService, @Ctx() ctx: GraphqlContext): Promise<ServiceEvent[]> {
    const events = await listServiceEvents(ctx.deps, ctx.principal, service.id);
    return events.map((e) => ({ ...e, message: eventMessageIn(e, ctx.language) }));
  }

  /** Worded per request (Accept-Language) from statusReason and its parameters; the stored text otherwise. */
  @FieldResolver(() => String, { nullable: true })
  statusMessage(@Root() service: InferenceService, @Ctx() ctx: GraphqlContext): string | null {
    return statusMessageIn(service, ctx.language);
  }

  @Mutation(() => InferenceServiceType, {
    description: 'Starts in status CREATING. The same idempotencyKey with the same input returns the first result; with another input it is a 40900.',
  })
  async createInferenceService(
    @Arg('input', () => CreateInferenceServiceInput) input: CreateInferenceServiceInput,
    @Ctx() ctx: GraphqlContext,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey?: string | null,
  ): Promise<InferenceService> {
    const parsed = parseCreateService({
      name: input.name,
      description: input.description,
      workspace_id: input.workspaceId,
      model_id: input.modelId,
      model_version: input.modelVersion,
      framework: input.framework,
      cpu: input.cpu,
      memory: input.memory,
      gpu: input.gpu,
      replicas: input.replicas,
    });
    const { service } = await createService(ctx.deps, ctx.principal, parsed, idempotencyClaim(idempotencyKey, parsed, 'idempotencyKey'), ctx.trace);
    return service;
  }

  @Mutation(() => InferenceServiceType, { description: 'Scaling keeps existing replicas; a modelVersion change rolls them.' })
  async updateInferenceService(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateInferenceServiceInput) input: UpdateInferenceServiceInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<InferenceService> {
    const parsed = parseUpdateService({
      description: input.description,
      model_version: input.modelVersion,
      cpu: input.cpu,
      memory: input.memory,
      gpu: input.gpu,
      replicas: input.replicas,
    });
    return updateService(ctx.deps, ctx.principal, id, parsed, ctx.trace);
  }

  @Mutation(() => InferenceServiceType, { description: 'Idempotent: stopping a stopped service returns it unchanged.' })
  async stopInferenceService(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<InferenceService> {
    return stopService(ctx.deps, ctx.principal, id, ctx.trace);
  }

  @Mutation(() => InferenceServiceType, { description: 'Starts a stopped or failed service again; idempotent.' })
  async startInferenceService(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<InferenceService> {
    return startService(ctx.deps, ctx.principal, id, ctx.trace);
  }

  @Mutation(() => Boolean, { description: 'Hides the service at once; replicas are released in the background.' })
  async deleteInferenceService(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<boolean> {
    await deleteService(ctx.deps, ctx.principal, id, ctx.trace);
    return true;
  }
}
