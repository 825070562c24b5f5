import { useEffect, useState } from 'preact/hooks';
import { api } from './api.client';
import { t } from './i18n';
import { watchStatuses } from './live.client';
import { getModel, type ModelVersion } from './models.api';
import { PredictPanel } from './predict.panel';
import { LogsPanel } from './logs.panel';
import { ConfirmButton, ErrorBox, StatusBadge, formatBytes, formatTime } from './ui';

interface Detail {
  service_id: string; name: string; description: string; status: string; model_id: number; model_version: string;
  framework: string; endpoint_url: string; cpu: number; memory: number; gpu: number; replicas: number;
  ready_replicas: number; workspace_id: number; status_reason: string | null; status_message: string | null; created_at: string;
  replica_states?: ReplicaState[];
}
interface ReplicaState { replica_id: string; generation: number; state: string; restarts: number; device: string | null; message: string | null }
interface ServiceEvent { type: string; status: string; reason: string | null; message: string | null; at: string }

/** One service: spec, live status, events, predict, lifecycle actions and logs. Status events refetch it. */
export function ServiceDetailPage(props: { id: string; onDeleted: () => void }) {
  const [svc, setSvc] = useState<Detail | null>(null);
  const [events, setEvents] = useState<ServiceEvent[]>([]);
  const [versions, setVersions] = useState<ModelVersion[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [replicas, setReplicas] = useState('');
  const [version, setVersion] = useState('');
  const path = `/inference/services/${encodeURIComponent(props.id)}`;

  const load = () =>
    Promise.all([api<Detail>('GET', path), api<ServiceEvent[] | { items: ServiceEvent[] }>('GET', `${path}/events`)])
      .then(([d, ev]) => { setSvc(d); setEvents(Array.isArray(ev) ? ev : ev.items); setError(null); })
      .catch(setError);

  useEffect(() => {
    void load();
    return watchStatuses((e) => {
      if (e.serviceId !== props.id) return;
      setSvc((s) => (s ? { ...s, status: e.status, ready_replicas: e.readyReplicas, replicas: e.replicas } : s));
      void load();
    });
  }, [props.id]);
  useEffect(() => {
    if (!svc) return;
    setReplicas((r) => r || String(svc.replicas));
    setVersion((v) => v || svc.model_version);
    if (!versions.length) getModel(svc.model_id).then((m) => setVersions(m.versions)).catch(() => undefined);
  }, [svc?.service_id]);

  const act = (method: string, suffix: string, body?: unknown) =>
    api(method, `${path}${suffix}`, body).then(load).catch(setError);

  if (!svc) return <section><ErrorBox error={error} />{!error && <p>{t('loading')}</p>}</section>;
  return (
    <section aria-labelledby="svc-title" data-service-id={svc.service_id}>
      <div class="toolbar">
        <h1 id="svc-title">{svc.name}</h1>
        <span role="status" aria-live="polite" class="live-status">
          <StatusBadge status={svc.status} /> <span class="ready" data-ready>{svc.ready_replicas}/{svc.replicas}</span>
        </span>
      </div>
      <ErrorBox error={error} />
      <div class="grid">
        <div class="card">
          <h2>{t('spec')}</h2>
          <dl class="spec">
            <dt>ID</dt><dd><code>{svc.service_id}</code></dd>
            <dt>{t('model')}</dt><dd>#{svc.model_id} {svc.model_version} ({svc.framework})</dd>
            <dt>{t('cpu')}</dt><dd>{svc.cpu}</dd>
            <dt>{t('memory')}</dt><dd>{formatBytes(svc.memory)}</dd>
            <dt>{t('gpu')}</dt><dd>{svc.gpu}</dd>
            <dt>{t('replicas')}</dt><dd>{svc.ready_replicas}/{svc.replicas}</dd>
            <dt>{t('workspace')}</dt><dd>{svc.workspace_id}</dd>
            <dt>{t('endpoint')}</dt><dd><code>{svc.endpoint_url}</code></dd>
            {svc.status_message && <><dt>{t('reason')}</dt><dd>{svc.status_message}</dd></>}
          </dl>
          <div class="actions">
            {svc.status === 'stopped' || svc.status === 'stopping' ? (
              <button type="button" onClick={() => act('POST', '/start')}>{t('start')}</button>
            ) : (
              <ConfirmButton label={t('stop')} question={`${t('stop')} ${svc.name}?`} onConfirm={() => act('POST', '/stop')} />
            )}
            <ConfirmButton danger label={t('delete')} question={t('confirmDelete', { name: svc.name })}
              onConfirm={() => api('DELETE', path).then(props.onDeleted).catch(setError)} />
          </div>
          <form class="inline" onSubmit={(e) => { e.preventDefault(); void act('PATCH', '', { replicas: Number(replicas) }); }}>
            <label for="scale-replicas">{t('replicas')}</label>
            <input id="scale-replicas" type="number" min="1" max="32" value={replicas} onInput={(e) => setReplicas(e.currentTarget.value)} />
            <button type="submit">{t('scale')}</button>
          </form>
          <form class="inline" onSubmit={(e) => { e.preventDefault(); void act('PATCH', '', { model_version: version }); }}>
            <label for="change-version">{t('version')}</label>
            <select id="change-version" value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
              {versions.map((v) => <option value={v.version}>{v.version}</option>)}
            </select>
            <button type="submit">{t('changeVersion')}</button>
          </form>
        </div>
        <PredictPanel path={path} />
      </div>
      <ReplicaTable replicas={svc.replica_states ?? []} />
      <div class="card">
        <h2>{t('events')}</h2>
        <ol class="timeline">
          {events.map((e) => (
            <li><time>{formatTime(e.at)}</time> <StatusBadge status={e.status} /> {e.message ?? ''}</li>
          ))}
        </ol>
      </div>
      <LogsPanel path={path} />
    </section>
  );
}

/** Each replica as the provisioner last saw it (states stay the API's machine words, like the status badge's data). */
function ReplicaTable(props: { replicas: ReplicaState[] }) {
  return (
    <div class="card">
      <h2 id="replica-states-title">{t('replicaStates')}</h2>
      {props.replicas.length === 0 ? <p>{t('noReplicas')}</p> : (
        <table class="replicas" aria-labelledby="replica-states-title">
          <thead>
            <tr><th scope="col">{t('replicaId')}</th><th scope="col">{t('replicaState')}</th><th scope="col">{t('restarts')}</th><th scope="col">{t('device')}</th><th scope="col">{t('message')}</th></tr>
          </thead>
          <tbody>
            {props.replicas.map((r) => (
              <tr key={r.replica_id} data-replica-id={r.replica_id} data-state={r.state}>
                <td><code>{r.replica_id}</code></td>
                <td>{r.state}</td>
                <td>{r.restarts}</td>
                <td>{r.device ?? '—'}</td>
                <td>{r.message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
