/** The Settings screen. */

import { Diagnostics } from './Diagnostics';

export function SettingsScreen() {
  return (
    <section class="screen" aria-labelledby="screen-title">
      <h1 id="screen-title">Settings</h1>
      <Diagnostics />
    </section>
  );
}
