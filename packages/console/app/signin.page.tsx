import { useState } from 'preact/hooks';
import { api, ApiError } from './api.client';
import { t } from './i18n';
import { setToken } from './session.store';
import { ErrorBox, Field } from './ui';

/** Checks the token with one authenticated call before keeping it, so a bad token is told at once (401 message). */
export function SignInPage(props: { notice: string | null; onSignedIn: () => void }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<unknown>(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) return setError(t('tokenRequired'));
    setBusy(true);
    setToken(value);
    try {
      await api('GET', '/');
      props.onSignedIn();
    } catch (err) {
      setToken(null);
      setError(err instanceof ApiError && err.status === 401 ? t('tokenRejected', { message: err.message }) : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card signin" onSubmit={submit}>
      <h1>{t('signIn')}</h1>
      <Field id="token" label={t('token')}>
        <input id="token" name="token" type="password" autoComplete="off" spellcheck={false} autoFocus value={token}
          aria-describedby="token-hint" onInput={(e) => setValue(e.currentTarget.value)} />
      </Field>
      <p class="hint" id="token-hint">{t('tokenHint')}</p>
      <ErrorBox error={error} />
      <button type="submit" class="primary" disabled={busy}>{t('signIn')}</button>
    </form>
  );
}
