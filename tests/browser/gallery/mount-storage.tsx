// Served by the Vite dev server in store.test.ts: mounts the gallery's
// storage line on its own, as the Models screen shows it.
import { render } from 'preact';
import { GalleryStorage } from '../../../src/ui/gallery/GalleryStorage';

const root = document.createElement('div');
root.id = 'storage-root';
document.body.prepend(root);
render(<GalleryStorage />, root);
