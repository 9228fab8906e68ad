/** Hash routes: they work from a static host and from the installed app's start URL. */

export const ROUTES = ['create', 'gallery', 'models', 'settings'] as const;
export type Route = (typeof ROUTES)[number];

export const ROUTE_LABELS: Record<Route, string> = {
  create: 'Create',
  gallery: 'Gallery',
  models: 'Models',
  settings: 'Settings',
};

export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, '');
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'create';
}
