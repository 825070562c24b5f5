import type { PageQuery } from '@remotegpu/core';
import type { Page } from '@remotegpu/store';

export interface PaginationDto {
  page: number;
  page_size: number;
  total: number;
  total_pages: number;
}

export interface PageDto<T> {
  items: T[];
  pagination: PaginationDto;
}

/** The seed's list shape; `total_pages` is 0 for an empty result. */
export function toPage<T, D>(page: Page<T>, query: PageQuery, map: (item: T) => D): PageDto<D> {
  return {
    items: page.items.map(map),
    pagination: {
      page: query.page,
      page_size: query.pageSize,
      total: page.total,
      total_pages: page.total === 0 ? 0 : Math.ceil(page.total / query.pageSize),
    },
  };
}
