/** The page's entry point: renders the app shell into #app. */

import { render } from 'preact';
import { App } from './ui/app/App';
import './ui/styles.css';

render(<App />, document.getElementById('app')!);
