/** Whether the drawing has a region that takes part in a run (visible, painted, with a prompt). */

import { useEffect, useState } from 'preact/hooks';
import { activeRegions } from '../../shared/regions/layout';
import { currentLayout } from '../draw';
import { getDrawingState, subscribe } from '../draw/drawing-state';

/** True when a run would use a region's prompt: then the main prompt may be empty. */
export function hasRegionPrompts(): boolean {
  return activeRegions(currentLayout()).length > 0;
}

/**
 * hasRegionPrompts(), kept current. Checked when the drawing changes but not
 * while a stroke is under the finger (the answer changes only when it ends),
 * and the screen re-renders only when the answer changes.
 */
export function useRegionPrompts(): boolean {
  const [prompted, setPrompted] = useState(hasRegionPrompts);
  useEffect(() => {
    const check = () => {
      if (getDrawingState().drawing.active === null) setPrompted(hasRegionPrompts());
    };
    check();
    return subscribe(check);
  }, []);
  return prompted;
}
