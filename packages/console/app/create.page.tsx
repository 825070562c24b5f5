import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.client';
import { t } from './i18n';
import { getModel, listModels, type Model, type ModelVersion } from './models.api';
import { getToken, readClaims } from './session.store';
import { ErrorBox, Field } from './ui';

const GIB = 1024 ** 3;

/**
 * Create a service; memory is typed in GiB and sent in bytes. The form does not validate in the browser (noValidate):
 * the API is the one validator, and its field errors (422) are shown next to their fields in the chosen language.
 */
export function CreatePage(props: { onCreated: (id: string) => void }) {
  const claims = readClaims(getToken());
  const [models, setModels] = useState<Model[]>([]);
  const [versions, setVersions] = useState<ModelVersion[]>([]);
  const [form, setForm] = useState({
    name: '', description: '', workspace_id: String(claims.workspaces[0] ?? ''), model_id: '', model_version: '',
    cpu: '1', memory: '2', gpu: '0', replicas: '1',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  useEffect(() => { listModels().then((p) => setModels(p.items)).catch(setError); }, []);
  useEffect(() => {
    const id = Number(form.model_id);
    if (!id) return setVersions([]);
    getModel(id).then((m) => {
      setVersions(m.versions);
      setForm((f) => ({ ...f, model_version: m.versions[0]?.version ?? '', workspace_id: f.workspace_id || String(m.workspace_id) }));
    }).catch(setError);
  }, [form.model_id]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
    const memory = num(form.memory);
    try {
      const created = await api<{ service_id: string }>('POST', '/inference/services', {
        name: form.name, description: form.description, workspace_id: num(form.workspace_id), model_id: num(form.model_id),
        model_version: form.model_version || undefined, cpu: num(form.cpu),
        memory: memory === undefined ? undefined : Math.round(memory * GIB), gpu: num(form.gpu), replicas: num(form.replicas),
      });
      props.onCreated(created.service_id);
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) setErrors(err.byField());
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const input = (k: keyof typeof form, numeric = false, step?: string) => {
    const common = {
      id: `f-${k}`, name: k, value: form[k], onInput: set(k),
      'aria-invalid': errors[k] ? ('true' as const) : undefined, 'aria-describedby': errors[k] ? `f-${k}-error` : undefined,
    };
    return numeric ? <input {...common} type="number" step={step} /> : <input {...common} type="text" />;
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-title" noValidate>
      <h1 id="create-title">{t('create')}</h1>
      <Field id="f-name" label={t('name')} error={errors.name}>{input('name')}</Field>
      <Field id="f-description" label={t('description')} error={errors.description}>{input('description')}</Field>
      <Field id="f-workspace_id" label={t('workspace')} error={errors.workspace_id}>
        {claims.workspaces.length > 1 ? (
          <select id="f-workspace_id" name="workspace_id" value={form.workspace_id} onChange={set('workspace_id')}>
            {claims.workspaces.map((w) => <option value={String(w)}>{w}</option>)}
          </select>
        ) : input('workspace_id', true)}
      </Field>
      <Field id="f-model_id" label={t('model')} error={errors.model_id}>
        <select id="f-model_id" name="model_id" value={form.model_id} onChange={set('model_id')} aria-invalid={errors.model_id ? 'true' : undefined}>
          <option value="">—</option>
          {models.map((m) => <option value={String(m.model_id)}>{m.name} (#{m.model_id})</option>)}
        </select>
      </Field>
      <Field id="f-model_version" label={t('version')} error={errors.model_version}>
        <select id="f-model_version" name="model_version" value={form.model_version} onChange={set('model_version')}>
          {versions.map((v) => <option value={v.version}>{v.version}</option>)}
        </select>
      </Field>
      <div class="row">
        <Field id="f-cpu" label={t('cpu')} error={errors.cpu}>{input('cpu', true, 'any')}</Field>
        <Field id="f-memory" label={t('memory')} error={errors.memory}>{input('memory', true, 'any')}</Field>
        <Field id="f-gpu" label={t('gpu')} error={errors.gpu}>{input('gpu', true)}</Field>
        <Field id="f-replicas" label={t('replicas')} error={errors.replicas}>{input('replicas', true)}</Field>
      </div>
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>{t('submit')}</button>
        <a class="button" href="#/services">{t('cancel')}</a>
      </div>
    </form>
  );
}
