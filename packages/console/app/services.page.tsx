import { useEffect, useRef, useState } from 'preact/hooks';
import { gql } from './api.client';
import { statusLabel, t } from './i18n';
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
const PAGE_SIZES = ['20', '50', '100', 'all'] as const;
/** "all" reads the pages of 100 (the API's cap) concurrently, up to this many services. */
const ALL_CAP = 5000;

type ServicePage = { inferenceServices: { items: Row[]; pagination: { total: number; totalPages: number } } };

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
  // `#/services?size=all` opens with that page size (a link can keep it; the benchmark uses it).
  const [pageSize, setPageSize] = useState<(typeof PAGE_SIZES)[number]>(() => {
    const asked = new URLSearchParams(location.hash.split('?')[1] ?? '').get('size');
    return PAGE_SIZES.find((n) => n === asked) ?? '50';
  });
  const [reload, setReload] = useState(0);
  const rowsRef = useRef<Row[] | null>(null);
  rowsRef.current = rows;

  useEffect(() => {
    let cancelled = false;
    const filters = { name: name.trim() || null, status: status ? status.toUpperCase() : null };
    const load = async (): Promise<{ items: Row[]; total: number; pages: number }> => {
      if (pageSize !== 'all') {
        const d = await gql<ServicePage>(QUERY, { ...filters, page, pageSize: Number(pageSize) });
        return { items: d.inferenceServices.items, total: d.inferenceServices.pagination.total, pages: d.inferenceServices.pagination.totalPages };
      }
      const first = await gql<ServicePage>(QUERY, { ...filters, page: 1, pageSize: 100 });
      const pageCount = Math.min(first.inferenceServices.pagination.totalPages, ALL_CAP / 100);
      const rest = await Promise.all(
        Array.from({ length: Math.max(0, pageCount - 1) }, (_v, i) => gql<ServicePage>(QUERY, { ...filters, page: i + 2, pageSize: 100 })),
      );
      const items = [first, ...rest].flatMap((d) => d.inferenceServices.items);
      return { items, total: first.inferenceServices.pagination.total, pages: 1 };
    };
    load()
      .then((d) => {
        if (cancelled) return;
        setRows(d.items.map((r) => ({ ...r, status: r.status.toLowerCase() })));
        setTotal(d.total);
        setPages(d.pages);
        setError(null);
      })
      .catch((err: unknown) => !cancelled && setError(err));
    return () => void (cancelled = true);
  }, [page, pageSize, name, status, reload]);

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
            {STATUSES.map((s) => <option value={s}>{statusLabel(s)}</option>)}
          </select>
        </label>
        <label>
          {t('pageSize')}
          <select name="page_size" value={pageSize} onChange={(e) => { setPageSize(e.currentTarget.value as typeof pageSize); setPage(1); }}>
            {PAGE_SIZES.map((n) => <option value={n}>{n === 'all' ? t('all') : n}</option>)}
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
      <p class="count" data-total={total}>{t('shown', { shown: rows?.length ?? 0, total })}</p>
      <nav class="pager" aria-label="pagination">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>{t('prev')}</button>
        <span>{t('page', { page, pages: Math.max(pages, 1), total })}</span>
        <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>{t('next')}</button>
      </nav>
    </section>
  );
}
