/** The dashboard: sign-in, the open-gateway banner, the page frame and the routes. */
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { GptMarketProvider } from '@gptmarket/sdk/react';
import { GenerationPage } from './generation.js';
import { ListPage } from './list.js';
import { NewPage } from './new.js';
import { BASE, Link, navigate, routeOf, useLocation } from './router.js';
import { PageHeading } from './ui.js';
import { checkCredential, gatewayIsOpen, loadCredential, makeClient, saveCredential, type Credential } from './session.js';

export function App() {
  const [credential, setCredential] = useState<Credential | null>(loadCredential);
  const [open, setOpen] = useState<boolean | null>(null);
  const { pathname } = useLocation();
  const route = routeOf(pathname);
  const client = useMemo(() => makeClient(credential), [credential]);

  useEffect(() => {
    gatewayIsOpen().then(setOpen);
  }, [credential]);

  const signIn = (c: Credential) => {
    saveCredential(c);
    setCredential(c);
    navigate(BASE, { replace: true });
  };
  const signOut = () => {
    saveCredential(null);
    setCredential(null);
    navigate(`${BASE}/sign-in`, { replace: true });
  };

  if (credential === null && open === null)
    return (
      <Frame credential={null} open={false} onSignOut={signOut}>
        <p role="status">Connecting to the gateway…</p>
      </Frame>
    );
  const mustSignIn = credential === null && !open;
  if (mustSignIn || route.name === 'sign-in')
    return (
      <Frame credential={credential} open={open === true} onSignOut={signOut} nav={!mustSignIn}>
        <SignIn onSignedIn={signIn} />
      </Frame>
    );

  return (
    <GptMarketProvider client={client}>
      <Frame credential={credential} open={open === true} onSignOut={signOut} nav>
        {route.name === 'list' && <ListPage />}
        {route.name === 'new' && <NewPage />}
        {route.name === 'generation' && <GenerationPage key={route.id} id={route.id} auth={credential?.kind ?? 'open'} />}
        {route.name === 'not-found' && (
          <>
            <PageHeading>Page not found</PageHeading>
            <p>
              There is no page at this address. <Link to={BASE}>Go to the generations</Link>.
            </p>
          </>
        )}
      </Frame>
    </GptMarketProvider>
  );
}

interface FrameProps {
  credential: Credential | null;
  open: boolean;
  onSignOut(): void;
  nav?: boolean;
  children: ReactNode;
}

function Frame({ credential, open, onSignOut, nav = false, children }: FrameProps) {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="wrap top-row">
          <Link to={BASE} className="brand">
            GPTMarket dashboard
          </Link>
          {nav && (
            <nav aria-label="Main">
              <Link to={BASE}>Generations</Link>
              <Link to={`${BASE}/new`}>New generation</Link>
            </nav>
          )}
          <div className="who">
            {credential ? (
              <>
                <span>{credential.kind === 'key' ? 'Signed in with an API key' : `Signed in as ${credential.username}`}</span>
                <button type="button" className="secondary" onClick={onSignOut}>
                  Sign out
                </button>
              </>
            ) : (
              open && <Link to={`${BASE}/sign-in`}>Sign in</Link>
            )}
          </div>
        </div>
      </header>
      {open && (
        <div className="banner" role="note" aria-label="Open gateway">
          <div className="wrap">
            <strong>This gateway is open.</strong> It has no API keys and no basic auth, so it answers without credentials: anyone who can
            reach it can start generations and see all of them. Create an API key (<code>pnpm gptmarket keys create --name …</code>) to
            close it.
          </div>
        </div>
      )}
      <main id="main" className="wrap">
        {children}
      </main>
      <footer className="wrap foot">
        <p>Images, videos and audio made here are AI-generated.</p>
      </footer>
    </>
  );
}

function SignIn({ onSignedIn }: { onSignedIn(c: Credential): void }) {
  const [method, setMethod] = useState<'key' | 'basic'>('key');
  const [key, setKey] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const credential: Credential = method === 'key' ? { kind: 'key', key: key.trim() } : { kind: 'basic', username, password };
    if (method === 'key' ? !key.trim() : !username || !password) {
      setError(method === 'key' ? 'Enter an API key.' : 'Enter a username and a password.');
      return;
    }
    setBusy(true);
    setError(null);
    const problem = await checkCredential(credential);
    setBusy(false);
    if (problem) setError(problem);
    else onSignedIn(credential);
  };

  return (
    <section className="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>The credential stays in this browser tab only, and is forgotten when the tab closes.</p>
      <form onSubmit={submit} noValidate>
        <fieldset className="choice">
          <legend>Sign in with</legend>
          <label>
            <input type="radio" name="method" value="key" checked={method === 'key'} onChange={() => setMethod('key')} /> An API key
          </label>
          <label>
            <input type="radio" name="method" value="basic" checked={method === 'basic'} onChange={() => setMethod('basic')} /> A username
            and password
          </label>
        </fieldset>
        {method === 'key' ? (
          <div className="field">
            <label htmlFor="api-key">API key</label>
            <input
              id="api-key"
              name="api_key"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-describedby="api-key-help"
            />
            <p id="api-key-help" className="help">
              Starts with <code>gmk_</code>; <code>pnpm gptmarket keys create</code> or <code>./scripts/keys.sh create</code> makes one.
            </p>
          </div>
        ) : (
          <>
            <div className="field">
              <label htmlFor="username">Username</label>
              <input id="username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="password">Password</label>
              <input
                id="password"
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
          </>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
