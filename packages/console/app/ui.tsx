import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { statusLabel, t } from './i18n';

/** A labelled form field with the API's error for it underneath (aria-describedby points at the error). */
export function Field(props: { id: string; label: string; error?: string; children: ComponentChildren }) {
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error && (
        <p class="field-error" id={`${props.id}-error`} role="alert" data-field-error={props.id}>
          {props.error}
        </p>
      )}
    </div>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`} data-status={props.status}>{statusLabel(props.status)}</span>;
}

export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  const message = props.error instanceof Error ? props.error.message : String(props.error);
  return <p class="error" role="alert">{message}</p>;
}

/** A button that asks once more before acting (delete, stop). */
export function ConfirmButton(props: { label: string; question: string; onConfirm: () => void; danger?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return <button type="button" class={props.danger ? 'danger' : ''} onClick={() => setAsking(true)}>{props.label}</button>;
  }
  return (
    <span class="confirm" role="group" aria-label={props.question}>
      <span>{props.question}</span>
      <button type="button" class="danger" autoFocus onClick={() => { setAsking(false); props.onConfirm(); }}>{t('confirm')}</button>
      <button type="button" onClick={() => setAsking(false)}>{t('cancel')}</button>
    </span>
  );
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
}
