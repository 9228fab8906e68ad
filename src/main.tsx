/** The page's entry point: renders the app shell into #app. */

import { render } from 'preact';
import { App } from './ui/app/App';
import { preloadAtOpen } from './ui/app/warm-up';
import './ui/styles.css';

// The page's modules have run; the first-image bench shows where a visit's time goes from here.
performance.mark('gesso: page script');

// Before the first render: the engine worker starts loading the pack while the page gets ready.
preloadAtOpen();
render(<App />, document.getElementById('app')!);
