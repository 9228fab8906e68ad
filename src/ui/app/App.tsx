import { CreateScreen } from '../create/CreateScreen';
import { SettingsScreen } from '../settings/SettingsScreen';
import { LimitationsBanner } from './LimitationsBanner';
import { NavBar } from './NavBar';
import { UpdatePrompt } from './UpdatePrompt';
import { useRoute } from './useRoute';
import { warmRuntimeCache } from './warm-runtime';
import { useEffect } from 'preact/hooks';
import type { Route } from './routes';

function Screen({ route }: { route: Route }) {
  switch (route) {
    case 'create':
      return <CreateScreen />;
    case 'settings':
      return <SettingsScreen />;
    case 'gallery':
      return <Placeholder title="Gallery" text="Your images will appear here." />;
    case 'models':
      return <Placeholder title="Models" text="Model packs will appear here." />;
  }
}

function Placeholder({ title, text }: { title: string; text: string }) {
  return (
    <section class="screen" aria-labelledby="screen-title">
      <h1 id="screen-title">{title}</h1>
      <p>{text}</p>
    </section>
  );
}

export function App() {
  const route = useRoute();
  useEffect(() => {
    warmRuntimeCache().catch(() => {
      // Offline or no cache: the runtime is fetched when it is first needed.
    });
  }, []);
  return (
    <div class="app">
      <header class="app-header">
        <span class="brand">Gesso</span>
        <UpdatePrompt />
      </header>
      <LimitationsBanner />
      <main class="app-main">
        <Screen route={route} />
      </main>
      <NavBar current={route} />
    </div>
  );
}
