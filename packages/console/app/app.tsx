import { useEffect, useState } from 'preact/hooks';
import { whenUnauthorized } from './api.client';
import { CreatePage } from './create.page';
import { t } from './i18n';
import { closeLive } from './live.client';
import { ModelsPage } from './models.page';
import { ServiceDetailPage } from './service-detail.page';
import { ServicesPage } from './services.page';
import { getLang, getToken, setLang, setToken } from './session.store';
import { SignInPage } from './signin.page';

/**
 * Hash routes (#/services, #/services/new, #/services/<id>, #/models): the gateway serves one index.html and needs
 * no rewrite rules, and a reload keeps the page.
 */
function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/services');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/services');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

export function App() {
  const hash = useHash();
  const [signedIn, setSignedIn] = useState(getToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const [lang, setLangState] = useState(getLang());
  const [live, setLive] = useState(false);
  useEffect(() => {
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
    document.title = t('title');
  }, [lang]);
  useEffect(() => {
    whenUnauthorized((message) => { setToken(null); closeLive(); setNotice(t('tokenRejected', { message })); setSignedIn(false); });
  }, []);
  const signOut = () => { setToken(null); closeLive(); setNotice(null); setSignedIn(false); };
  const switchLang = () => { const next = lang === 'en' ? 'zh' : 'en'; setLang(next); setLangState(next); };

  let page;
  if (!signedIn) {
    page = <SignInPage notice={notice} onSignedIn={() => { setNotice(null); setSignedIn(true); }} />;
  } else if (hash === '#/services/new') {
    page = <CreatePage onCreated={(id) => { location.hash = `#/services/${id}`; }} />;
  } else if (hash.startsWith('#/services/')) {
    const id = decodeURIComponent(hash.slice('#/services/'.length));
    page = <ServiceDetailPage key={`${id}-${lang}`} id={id} onDeleted={() => { location.hash = '#/services'; }} />;
  } else if (hash === '#/models') {
    page = <ModelsPage key={lang} />;
  } else {
    page = <ServicesPage key={lang} onLive={setLive} />;
  }
  const nav = (href: string, label: string) => (
    <a href={href} aria-current={hash.startsWith(href) ? 'page' : undefined}>{label}</a>
  );
  return (
    <>
      <header>
        <strong>{t('title')}</strong>
        {signedIn && <nav aria-label="main">{nav('#/services', t('services'))}{nav('#/models', t('models'))}</nav>}
        <span class="spacer" />
        {signedIn && <span class={live ? 'live on' : 'live'} role="status">{live ? t('live') : ''}</span>}
        <button type="button" onClick={switchLang} lang={lang === 'en' ? 'zh-CN' : 'en'}>{t('language')}</button>
        {signedIn && <button type="button" onClick={signOut}>{t('signOut')}</button>}
      </header>
      <main>{page}</main>
    </>
  );
}
