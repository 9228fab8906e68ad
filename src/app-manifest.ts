/** The web app manifest (built into manifest.webmanifest by vite-plugin-pwa). */

export const webManifest = {
  name: 'Gesso: images made on your device',
  short_name: 'Gesso',
  description:
    'Make images from words and finger-drawn regions, entirely on your own phone or laptop. Works offline; nothing leaves the device.',
  id: '/',
  start_url: '/',
  scope: '/',
  display: 'standalone' as const,
  orientation: 'portrait' as const,
  theme_color: '#1d1b2e',
  background_color: '#1d1b2e',
  categories: ['graphics', 'photo', 'productivity'],
  icons: [
    { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
  ],
};
