import 'reflect-metadata';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { SERVICE_EVENT_TYPES, SERVICE_STATUSES, type ServiceEventType, type ServiceStatus } from '@remotegpu/core';

/** `{ CREATING: 'creating', ... }`: the GraphQL enum names map to the domain's values, so resolvers pass them through. */
function upperCaseEnum<T extends string>(values: readonly T[]): Record<string, T> {
  return Object.fromEntries(values.map((v) => [v.toUpperCase(), v]));
}

// Generated from the core constants so the GraphQL enums never drift from the domain.
export const ServiceStatusEnum: Record<string, ServiceStatus> = upperCaseEnum(SERVICE_STATUSES);
registerEnumType(ServiceStatusEnum, {
  name: 'ServiceStatus',
  description: 'Lifecycle status of an inference service (REST spells the same values in lower case).',
});

export const ServiceEventTypeEnum: Record<string, ServiceEventType> = upperCaseEnum(SERVICE_EVENT_TYPES);
registerEnumType(ServiceEventTypeEnum, { name: 'ServiceEventType', description: 'What a lifecycle event records.' });

@ObjectType('Pagination')
export class PaginationType {
  @Field(() => Int, { description: 'Page number, from 1.' })
  page!: number;

  @Field(() => Int, { description: 'Items per page after capping (at most 100).' })
  pageSize!: number;

  @Field(() => Int, { description: 'Number of items over all pages.' })
  total!: number;

  @Field(() => Int)
  totalPages!: number;
}

export function paginationOf(total: number, page: number, pageSize: number): PaginationType {
  return { page, pageSize, total, totalPages: Math.ceil(total / pageSize) };
}
