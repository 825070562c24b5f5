import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.client';
import { t } from './i18n';
import { getModel, listModels, type Model, type ModelDetail, type ModelVersion } from './models.api';
import { getToken, readClaims } from './session.store';
import { ConfirmButton, ErrorBox, Field, formatBytes } from './ui';

const FRAMEWORKS = ['onnx', 'pytorch', 'tensorflow', 'paddle', 'sklearn', 'xgboost'];

/** Models: list, register, open one to upload a version or delete it. */
export function ModelsPage() {
  const [models, setModels] = useState<Model[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const refresh = () => listModels().then((p) => { setModels(p.items); setError(null); }).catch(setError);
  useEffect(() => void refresh(), []);
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">{t('models')}</h1>
      <ErrorBox error={error} />
      <div class="grid">
        <div class="card">
          {models === null ? <p>{t('loading')}</p> : models.length === 0 ? <p>{t('empty')}</p> : (
            <ul class="model-list">
              {models.map((m) => (
                <li><button type="button" class={selected === m.model_id ? 'link active' : 'link'} onClick={() => setSelected(m.model_id)}>
                  {m.name} <small>#{m.model_id} · {m.framework} · {t('workspace')} {m.workspace_id}</small>
                </button></li>
              ))}
            </ul>
          )}
        </div>
        <RegisterForm onRegistered={(id) => { void refresh(); setSelected(id); }} />
      </div>
      {selected !== null && <ModelPanel key={selected} id={selected} onDeleted={() => { setSelected(null); void refresh(); }} />}
    </section>
  );
}

function RegisterForm(props: { onRegistered: (id: number) => void }) {
  const claims = readClaims(getToken());
  const [form, setForm] = useState({ name: '', workspace_id: String(claims.workspaces[0] ?? ''), framework: 'onnx', task: 'image-classification', description: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    try {
      const m = await api<Model>('POST', '/models', { ...form, workspace_id: Number(form.workspace_id) });
      setForm({ ...form, name: '' });
      props.onRegistered(m.model_id);
    } catch (err) {
      if (err instanceof ApiError) setErrors(err.byField());
      setError(err);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="register-title">
      <h2 id="register-title">{t('register')}</h2>
      <Field id="m-name" label={t('name')} error={errors.name}><input id="m-name" name="name" value={form.name} onInput={set('name')} /></Field>
      <Field id="m-workspace" label={t('workspace')} error={errors.workspace_id}>
        <input id="m-workspace" name="workspace_id" type="number" value={form.workspace_id} onInput={set('workspace_id')} />
      </Field>
      <Field id="m-framework" label={t('framework')} error={errors.framework}>
        <select id="m-framework" name="framework" value={form.framework} onChange={set('framework')}>
          {FRAMEWORKS.map((f) => <option value={f}>{f}</option>)}
        </select>
      </Field>
      <Field id="m-task" label={t('task')} error={errors.task}><input id="m-task" name="task" value={form.task} onInput={set('task')} /></Field>
      <ErrorBox error={error} />
      <button type="submit" class="primary">{t('register')}</button>
    </form>
  );
}

function ModelPanel(props: { id: number; onDeleted: () => void }) {
  const [model, setModel] = useState<ModelDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => getModel(props.id).then(setModel).catch(setError);
  useEffect(() => void load(), [props.id]);
  if (!model) return <ErrorBox error={error} />;
  return (
    <div class="card" data-model-id={model.model_id}>
      <div class="toolbar">
        <h2>{model.name}</h2>
        <ConfirmButton danger label={t('delete')} question={t('confirmDelete', { name: model.name })}
          onConfirm={() => api('DELETE', `/models/${model.model_id}`).then(props.onDeleted).catch(setError)} />
      </div>
      <ErrorBox error={error} />
      <h3>{t('versions')}</h3>
      {model.versions.length === 0 ? <p>{t('noVersions')}</p> : model.versions.map((v) => <VersionCard v={v} />)}
      <UploadForm modelId={model.model_id} onUploaded={() => void load()} />
    </div>
  );
}

function shape(s: (number | string)[]): string {
  return `[${s.map((d) => (d === -1 ? '?' : String(d))).join(', ')}]`;
}

function VersionCard(props: { v: ModelVersion }) {
  const v = props.v;
  return (
    <dl class="spec version" data-version={v.version}>
      <dt>{t('version')}</dt><dd>{v.version} ({v.format})</dd>
      <dt>{t('inputs')}</dt><dd>{v.inputs.map((i) => `${i.name} ${i.datatype} ${shape(i.shape)}`).join('; ')}</dd>
      <dt>{t('outputs')}</dt><dd>{v.outputs.map((i) => `${i.name} ${i.datatype} ${shape(i.shape)}`).join('; ')}</dd>
      <dt>{t('size')}</dt><dd>{formatBytes(v.size_bytes)}</dd>
      <dt>sha256</dt><dd><code data-sha256>{v.sha256}</code></dd>
      <dt>{t('labels')}</dt><dd>{v.labels.join(', ')}</dd>
    </dl>
  );
}

function UploadForm(props: { modelId: number; onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [version, setVersion] = useState('v1.0');
  const [labels, setLabels] = useState('');
  const [pre, setPre] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // A new key after an upload gives a fresh file input (a file input's value cannot be cleared by state).
  const [inputKey, setInputKey] = useState(0);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    const form = new FormData();
    form.set('version', version);
    const list = labels.split('\n').map((l) => l.trim()).filter(Boolean);
    if (list.length) form.set('labels', JSON.stringify(list));
    if (pre.trim()) form.set('preprocessing', pre.trim());
    if (file) form.set('file', file, file.name);
    setBusy(true);
    try {
      await api('POST', `/models/${props.modelId}/versions`, form);
      setFile(null);
      setInputKey((k) => k + 1);
      props.onUploaded();
    } catch (err) {
      if (err instanceof ApiError) setErrors(err.byField());
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="upload" onSubmit={submit} aria-labelledby={`upload-${props.modelId}`}>
      <h3 id={`upload-${props.modelId}`}>{t('upload')}</h3>
      <Field id="u-file" label={t('file')} error={errors.file}>
        <div class="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={(e) => { e.preventDefault(); setFile(e.dataTransfer?.files[0] ?? null); }}>
          <input key={inputKey} id="u-file" name="file" type="file" accept=".onnx" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
          <span>{file ? `${file.name} (${formatBytes(file.size)})` : t('dropHere')}</span>
        </div>
      </Field>
      <Field id="u-version" label={t('version')} error={errors.version}><input id="u-version" name="version" value={version} onInput={(e) => setVersion(e.currentTarget.value)} /></Field>
      <Field id="u-labels" label={t('labels')} error={errors.labels}><textarea id="u-labels" name="labels" rows={3} value={labels} onInput={(e) => setLabels(e.currentTarget.value)} /></Field>
      <Field id="u-pre" label={t('preprocessing')} error={errors.preprocessing}><textarea id="u-pre" name="preprocessing" rows={2} value={pre} onInput={(e) => setPre(e.currentTarget.value)} /></Field>
      <ErrorBox error={error} />
      <button type="submit" class="primary" disabled={busy}>{t('upload')}</button>
    </form>
  );
}
