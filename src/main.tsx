/** The page's entry point: renders the app shell into #app. */

// The first-image bench reads this (and the engine's measures) to show where a visit's time goes.
performance.mark('gesso: page script');

import { render } from 'preact';
import { App } from './ui/app/App';
import { preloadAtOpen } from './ui/app/warm-up';
import './ui/styles.css';

// Before the first render: the engine worker starts loading the pack while the page gets ready.
preloadAtOpen();
render(<App />, document.getElementById('app')!);
