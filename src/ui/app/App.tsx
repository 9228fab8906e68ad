/** The app shell: header (with the update prompt and limitations), the current screen, and the bottom navigation. */

import { CreateScreen } from '../create/CreateScreen';
import { ModelsScreen } from '../models/ModelsScreen';
import { GalleryScreen } from '../gallery/GalleryScreen';
import { SettingsScreen } from '../settings/SettingsScreen';
import { LimitationsBanner } from './LimitationsBanner';
import { NavBar } from './NavBar';
import { UpdatePrompt } from './UpdatePrompt';
import { useRoute } from './useRoute';
import { warmRuntimeCache } from './warm-up';
import { useEffect } from 'preact/hooks';
import { keepStoreAwake, onStoreEvent } from '../../store/packs';
import { packChanged } from './engine';
import type { Route } from './routes';

function Screen({ route }: { route: Route }) {
  switch (route) {
    case 'create':
      return <CreateScreen />;
    case 'settings':
      return <SettingsScreen />;
    case 'gallery':
      return <GalleryScreen />;
    case 'models':
      return <ModelsScreen />;
  }
}

export function App() {
  const route = useRoute();
  useEffect(() => {
    warmRuntimeCache().catch(() => {
      // Offline or no cache: the runtime is fetched when it is first needed.
    });
  }, []);
  // Downloads run in the service worker; an open page keeps it from being stopped mid-file.
  useEffect(() => keepStoreAwake(), []);
  // A pack installed, converted or deleted elsewhere: the engine loads it afresh next time.
  useEffect(
    () => onStoreEvent((event) => event.type === 'changed' && packChanged(event.packId)),
    [],
  );
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
