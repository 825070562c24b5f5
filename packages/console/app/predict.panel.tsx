import { useState } from 'preact/hooks';
import { api } from './api.client';
import { t } from './i18n';
import { ErrorBox } from './ui';

interface Prediction { class: string; confidence: number }

function toBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(file);
  });
}

/** Pick or drop an image; the seed predict route answers the top classes, drawn as bars. */
export function PredictPanel(props: { path: string }) {
  const [predictions, setPredictions] = useState<Prediction[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const out = await api<{ predictions: Prediction[] }>('POST', `${props.path}/predict`, { inputs: { image: await toBase64(file) } });
      setPredictions(out.predictions);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card predict" onDragOver={(e) => e.preventDefault()} onDrop={(e) => { e.preventDefault(); void run(e.dataTransfer?.files[0]); }}>
      <h2>{t('predict')}</h2>
      <label for="predict-image">{t('dropImage')}</label>
      <input id="predict-image" type="file" accept="image/*" disabled={busy} onChange={(e) => void run(e.currentTarget.files?.[0])} />
      <ErrorBox error={error} />
      <ol class="bars" aria-label={t('predict')}>
        {predictions.map((p) => (
          <li data-class={p.class}>
            <span class="bar-label">{p.class}</span>
            <span class="bar" style={{ width: `${Math.max(1, p.confidence * 100)}%` }} />
            <span class="bar-value">{(p.confidence * 100).toFixed(1)}%</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
