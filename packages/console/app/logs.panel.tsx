import { useEffect, useRef, useState } from 'preact/hooks';
import { api, authHeaders } from './api.client';
import { t } from './i18n';
import { ErrorBox } from './ui';

interface LogLine { replica: string; at: string; stream: 'stdout' | 'stderr'; line: string }

const TAIL = 200;
/** Lines kept on screen while following; older ones scroll away. */
const KEEP = 2000;

/**
 * The replicas' recent lines (GET …/logs?tail=200), and live with "follow": the same route's server-sent events,
 * read with fetch because EventSource cannot send the Authorization header.
 */
export function LogsPanel(props: { path: string }) {
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(false);
  const pre = useRef<HTMLPreElement>(null);

  const load = () =>
    api<{ items: LogLine[] }>('GET', `${props.path}/logs?tail=${TAIL}`)
      .then((d) => { setLines(d.items); setError(null); })
      .catch((err: unknown) => setError(err));

  useEffect(() => {
    if (!follow) return;
    const abort = new AbortController();
    void (async () => {
      const res = await fetch(`/api/v1${props.path}/logs?follow=true&tail=${TAIL}`, { headers: authHeaders(), signal: abort.signal });
      if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
      setLines([]);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const events = buffer.split('\n\n');
        buffer = events.pop() ?? '';
        const fresh = events
          .map((e) => e.split('\n').find((l) => l.startsWith('data: ')))
          .filter((d): d is string => d !== undefined)
          .map((d) => JSON.parse(d.slice(6)) as LogLine);
        if (fresh.length) setLines((old) => [...(old ?? []), ...fresh].slice(-KEEP));
      }
    })().catch((err: unknown) => { if (!abort.signal.aborted) { setError(err); setFollow(false); } });
    return () => abort.abort();
  }, [follow, props.path]);

  useEffect(() => { pre.current?.scrollTo(0, pre.current.scrollHeight); }, [lines]);

  return (
    <div class="card logs">
      <div class="toolbar">
        <h2 id="logs-title">{t('logs')}</h2>
        <button type="button" onClick={() => void load()} disabled={follow}>{t('refresh')}</button>
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> {t('follow')}</label>
      </div>
      <ErrorBox error={error} />
      {lines && (
        <pre ref={pre} tabIndex={0} aria-labelledby="logs-title" data-lines={lines.length}>
          {lines.map((l) => `${l.at} ${l.replica} ${l.stream === 'stderr' ? '!' : ' '} ${l.line}`).join('\n')}
        </pre>
      )}
    </div>
  );
}
