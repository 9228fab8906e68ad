/** The bottom navigation between Create, Gallery, Models and Settings. */

import { ROUTES, ROUTE_LABELS, type Route } from './routes';

export function NavBar({ current }: { current: Route }) {
  return (
    <nav class="nav" aria-label="Main">
      {ROUTES.map((route) => (
        <a key={route} href={`#/${route}`} aria-current={route === current ? 'page' : undefined}>
          {ROUTE_LABELS[route]}
        </a>
      ))}
    </nav>
  );
}
