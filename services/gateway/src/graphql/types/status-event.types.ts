import 'reflect-metadata';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { ServiceStatus } from '@remotegpu/core';
import { ServiceStatusEnum } from './common.types.js';

/** One status change as the subscription delivers it: the `service.status` event minus the data-plane details. */
@ObjectType('ServiceStatusEvent')
export class ServiceStatusEventType {
  @Field(() => ID)
  serviceId!: string;

  @Field(() => ServiceStatusEnum, { description: 'Status after the change.' })
  status!: ServiceStatus;

  @Field(() => ServiceStatusEnum, { nullable: true, description: 'Status before the change; null for the first one.' })
  previousStatus!: ServiceStatus | null;

  @Field(() => String, { nullable: true, description: 'Machine-readable cause, e.g. insufficient_gpu.' })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => Int, { description: 'Replicas that pass their readiness check.' })
  readyReplicas!: number;

  @Field(() => Int, { description: 'Desired number of replicas.' })
  replicas!: number;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  at!: string;
}
