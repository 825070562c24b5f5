import { useState } from 'preact/hooks';
import { api } from './api.client';
import { t } from './i18n';
import { ErrorBox } from './ui';

interface LogLine { replica?: string | number; line?: string; message?: string; at?: string; time?: string }

/** The replicas' recent log lines (GET …/logs?tail=200), fetched on demand. */
export function LogsPanel(props: { path: string }) {
  const [lines, setLines] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api<unknown>('GET', `${props.path}/logs?tail=200`)
      .then((data) => {
        const items = (Array.isArray(data) ? data : ((data as { items?: unknown[]; lines?: unknown[] }).items ?? (data as { lines?: unknown[] }).lines ?? [])) as (LogLine | string)[];
        setLines(items.map((l) => (typeof l === 'string' ? l : `${l.replica ?? ''} ${l.at ?? l.time ?? ''} ${l.line ?? l.message ?? ''}`.trim())));
        setError(null);
      })
      .catch((err: unknown) => { setError(err); setLines(null); });
  return (
    <div class="card logs">
      <div class="toolbar">
        <h2>{t('logs')}</h2>
        <button type="button" onClick={() => void load()}>{t('refresh')}</button>
      </div>
      <ErrorBox error={error} />
      {lines && <pre tabIndex={0} aria-label={t('logs')}>{lines.join('\n')}</pre>}
    </div>
  );
}
