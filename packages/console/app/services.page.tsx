import { useEffect, useRef, useState } from 'preact/hooks';
import { gql } from './api.client';
import { t } from './i18n';
import { watchStatuses } from './live.client';
import { ErrorBox, StatusBadge, formatTime } from './ui';

interface Row {
  id: string;
  name: string;
  status: string;
  replicas: number;
  readyReplicas: number;
  modelVersion: string;
  createdAt: string;
}

const QUERY = `query Services($page: Int, $pageSize: Int, $name: String, $status: ServiceStatus) {
  inferenceServices(page: $page, pageSize: $pageSize, name: $name, status: $status) {
    items { id name status replicas readyReplicas modelVersion createdAt }
    pagination { page total totalPages }
  }
}`;

const STATUSES = ['creating', 'running', 'updating', 'stopping', 'stopped', 'failed'];
const PAGE_SIZE = 50;

/**
 * The list comes from one GraphQL query; then status and ready/desired replicas change in place from the
 * subscription. An event for a service not on the page (created elsewhere) refetches the page, at most twice a second.
 */
export function ServicesPage(props: { onLive: (live: boolean) => void }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [total, setTotal] = useState(0);
  const [pages, setPages] = useState(0);
  const [page, setPage] = useState(1);
  const [name, setName] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const rowsRef = useRef<Row[] | null>(null);
  rowsRef.current = rows;

  useEffect(() => {
    let cancelled = false;
    const vars = { page, pageSize: PAGE_SIZE, name: name.trim() || null, status: status ? status.toUpperCase() : null };
    gql<{ inferenceServices: { items: Row[]; pagination: { total: number; totalPages: number } } }>(QUERY, vars)
      .then((d) => {
        if (cancelled) return;
        setRows(d.inferenceServices.items.map((r) => ({ ...r, status: r.status.toLowerCase() })));
        setTotal(d.inferenceServices.pagination.total);
        setPages(d.inferenceServices.pagination.totalPages);
        setError(null);
      })
      .catch((err: unknown) => !cancelled && setError(err));
    return () => void (cancelled = true);
  }, [page, name, status, reload]);

  useEffect(() => {
    let refetch: ReturnType<typeof setTimeout> | undefined;
    const stop = watchStatuses((e) => {
      const current = rowsRef.current;
      if (current?.some((r) => r.id === e.serviceId)) {
        setRows(current.map((r) => (r.id === e.serviceId ? { ...r, status: e.status, readyReplicas: e.readyReplicas, replicas: e.replicas } : r)));
      } else if (!refetch) {
        refetch = setTimeout(() => { refetch = undefined; setReload((n) => n + 1); }, 500);
      }
    }, props.onLive);
    return () => { stop(); clearTimeout(refetch); };
  }, []);

  return (
    <section aria-labelledby="services-title">
      <div class="toolbar">
        <h1 id="services-title">{t('services')}</h1>
        <a class="button primary" href="#/services/new">{t('create')}</a>
      </div>
      <div class="filters" role="search">
        <label>
          {t('filterName')}
          <input type="search" name="name" value={name} onInput={(e) => { setName(e.currentTarget.value); setPage(1); }} />
        </label>
        <label>
          {t('filterStatus')}
          <select name="status" value={status} onChange={(e) => { setStatus(e.currentTarget.value); setPage(1); }}>
            <option value="">{t('all')}</option>
            {STATUSES.map((s) => <option value={s}>{s}</option>)}
          </select>
        </label>
      </div>
      <ErrorBox error={error} />
      {rows === null ? <p>{t('loading')}</p> : rows.length === 0 ? <p>{t('empty')}</p> : (
        <table class="services">
          <thead>
            <tr><th>{t('name')}</th><th>{t('status')}</th><th>{t('ready')}</th><th>{t('version')}</th><th>{t('created')}</th></tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-service-id={r.id}>
                <td><a href={`#/services/${r.id}`}>{r.name}</a></td>
                <td><StatusBadge status={r.status} /></td>
                <td data-ready>{r.readyReplicas}/{r.replicas}</td>
                <td>{r.modelVersion}</td>
                <td>{formatTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="pagination">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>{t('prev')}</button>
        <span>{t('page', { page, pages: Math.max(pages, 1), total })}</span>
        <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>{t('next')}</button>
      </nav>
    </section>
  );
}
