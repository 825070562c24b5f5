import 'reflect-metadata';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { ServiceEventType as EventKind, ServiceStatus } from '@remotegpu/core';
import { SafeInt } from '../scalars.js';
import { PaginationType, ServiceEventTypeEnum, ServiceStatusEnum } from './common.types.js';

/**
 * GraphQL shapes of the inference service. Resolvers return the domain objects of `@remotegpu/core`
 * (their property names are these field names); `endpointUrl` and `events` are field resolvers.
 */
@ObjectType('InferenceService')
export class InferenceServiceType {
  @Field(() => ID, { description: '`svc-` followed by random lowercase letters and digits.' })
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => Int)
  workspaceId!: number;

  @Field(() => Int)
  modelId!: number;

  @Field(() => String)
  modelVersion!: string;

  @Field(() => String, { description: 'pytorch, tensorflow, onnx, paddle, sklearn or xgboost (taken from the model).' })
  framework!: string;

  @Field(() => Float, { description: 'CPU cores per replica (steps of 0.001).' })
  cpu!: number;

  @Field(() => SafeInt, { description: 'Memory per replica, in bytes.' })
  memory!: number;

  @Field(() => Int, { description: 'Whole GPUs per replica.' })
  gpu!: number;

  @Field(() => Int, { description: 'Desired number of replicas.' })
  replicas!: number;

  @Field(() => Int, { description: 'Replicas that currently pass their readiness check.' })
  readyReplicas!: number;

  @Field(() => ServiceStatusEnum)
  status!: ServiceStatus;

  @Field(() => String, { nullable: true, description: 'Machine-readable cause of the status, e.g. insufficient_gpu.' })
  statusReason!: string | null;

  @Field(() => String, { nullable: true })
  statusMessage!: string | null;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  createdAt!: string;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  updatedAt!: string;
}

@ObjectType('ReplicaState', { description: 'One replica as the provisioner last saw it.' })
export class ReplicaStateType {
  @Field(() => String)
  replicaId!: string;

  @Field(() => Int, { description: 'The service generation the replica runs; old ones remain during a rollout.' })
  generation!: number;

  @Field(() => String, { description: 'pending, starting, ready, restarting or terminating.' })
  state!: string;

  @Field(() => Int)
  restarts!: number;

  @Field(() => String, { nullable: true, description: 'Execution provider the replica reports (cpu, cuda), once known.' })
  device!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;
}

@ObjectType('ServiceEvent')
export class ServiceEventType {
  @Field(() => ServiceEventTypeEnum)
  type!: EventKind;

  @Field(() => ServiceStatusEnum, { description: 'Status after the event.' })
  status!: ServiceStatus;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  at!: string;
}

@ObjectType('InferenceServicePage')
export class InferenceServicePageType {
  @Field(() => [InferenceServiceType], { description: 'Newest first.' })
  items!: InferenceServiceType[];

  @Field(() => PaginationType)
  pagination!: PaginationType;
}

/**
 * Input fields mirror the REST body (`POST /api/v1/inference/services`) in camelCase; a field is optional here
 * exactly when it is optional there, and the resolver validates with the same core parser, so field errors in
 * `extensions.fields` name the REST (snake_case) fields, e.g. `model_version`.
 */
@InputType('CreateInferenceServiceInput')
export class CreateInferenceServiceInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Int)
  workspaceId!: number;

  @Field(() => Int)
  modelId!: number;

  @Field(() => String)
  modelVersion!: string;

  @Field(() => String, { nullable: true, description: "Must equal the model's framework when given." })
  framework?: string | null;

  @Field(() => Float, { nullable: true, description: 'Default 1.' })
  cpu?: number | null;

  @Field(() => SafeInt, { nullable: true, description: 'Bytes; default 2 GiB.' })
  memory?: number | null;

  @Field(() => Int, { nullable: true, description: 'Default 0.' })
  gpu?: number | null;

  @Field(() => Int, { nullable: true, description: 'Default 1.' })
  replicas?: number | null;
}

/** As `PATCH /api/v1/inference/services/{id}`: at least one field. */
@InputType('UpdateInferenceServiceInput')
export class UpdateInferenceServiceInput {
  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'Rolls the replicas to another version without dropping traffic.' })
  modelVersion?: string | null;

  @Field(() => Float, { nullable: true })
  cpu?: number | null;

  @Field(() => SafeInt, { nullable: true })
  memory?: number | null;

  @Field(() => Int, { nullable: true })
  gpu?: number | null;

  @Field(() => Int, { nullable: true })
  replicas?: number | null;
}
