import type { ServiceListFilter } from '../store.port.js';
import { SERVICE_COLUMNS } from './service.sqlite-mapping.js';
import { nameKey } from './sqlite.helpers.js';

export interface ServiceListSql {
  /** Names the statement's shape (which filters are present): equal keys share prepared statements. */
  key: string;
  countSql: string;
  /** Takes `params`, then LIMIT and OFFSET. */
  pageSql: string;
  params: unknown[];
}

/**
 * The statements of a list, prepared once per shape. `deleted_at IS NULL` comes first and literally, so the
 * planner can use the partial indexes.
 *
 * The visible-workspaces test differs between the two: the COUNT probes the workspace index once per
 * visible workspace, while the page writes `+workspace_id` so SQLite does not do the same and then sort
 * every matching row — it walks an index newest first and stops after one page.
 */
export function serviceListSql(filter: ServiceListFilter): ServiceListSql {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const shape: string[] = [];
  if (filter.workspaceId !== undefined) {
    conditions.push('workspace_id = ?');
    params.push(filter.workspaceId);
    shape.push('workspace');
  }
  if (filter.status !== undefined) {
    conditions.push('status = ?');
    params.push(filter.status);
    shape.push('status');
  }
  if (filter.nameContains !== undefined && filter.nameContains !== '') {
    // instr() matches literally, so `%` and `_` in a search need no LIKE escaping.
    conditions.push('instr(name_key, ?) > 0');
    params.push(nameKey(filter.nameContains));
    shape.push('name');
  }
  const where = (visible: string | null) => ['deleted_at IS NULL', ...(visible ? [visible] : []), ...conditions].join(' AND ');
  const sql = (countWhere: string, pageWhere: string) => ({
    countSql: `SELECT count(*) FROM services WHERE ${countWhere}`,
    pageSql: `SELECT ${SERVICE_COLUMNS} FROM services WHERE ${pageWhere} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
  });
  if (filter.visibleWorkspaces === 'all') {
    return { key: shape.join(','), ...sql(where(null), where(null)), params };
  }
  const visible = 'workspace_id IN (SELECT value FROM json_each(?))';
  return {
    key: ['visible', ...shape].join(','),
    ...sql(where(visible), where(`+${visible}`)),
    params: [JSON.stringify(filter.visibleWorkspaces), ...params],
  };
}
