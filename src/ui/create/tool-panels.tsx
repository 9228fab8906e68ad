/** Each tool's controls, one compact row (or a short panel) shown while the tool is open. */

import { DrawingTools, RegionsPanel } from '../draw';
import { useDrawingState } from '../draw/drawing-state';
import { visibleStrokes } from '../draw/strokes';
import type { ControlConfig } from '../../shared/pack-manifest';
import { controlStrength, OutlineControls } from './outline/OutlineControls';
import { StartImagePicker } from './start-image/StartImagePicker';
import type { StartImageChoice } from './start-image/photo';

export function RegionsTool() {
  return (
    <div class="tool-panel" role="group" aria-label="Regions controls">
      <DrawingTools />
      <RegionsPanel />
    </div>
  );
}

export function RepaintTool() {
  return (
    <div class="tool-panel" role="group" aria-label="Repaint controls">
      <p class="tool-hint">
        Paint over the part to change, then press Generate: the rest stays as it is.
      </p>
      <DrawingTools />
    </div>
  );
}

export function OutlineTool({
  control,
  strength,
  onStrength,
}: {
  control: ControlConfig;
  strength: number | null;
  onStrength: (strength: number) => void;
}) {
  const { drawing } = useDrawingState();
  const drawn = visibleStrokes(drawing).some((s) => !s.erase);
  return (
    <div class="tool-panel" role="group" aria-label="Outline controls">
      <OutlineControls
        control={control}
        strength={controlStrength(strength, control)}
        onStrength={onStrength}
      />
      {!drawn && (
        <p class="tool-hint" role="status">
          Nothing is drawn yet: Generate would make a picture that follows no outline.
        </p>
      )}
      <DrawingTools />
    </div>
  );
}

export function PhotoTool({
  value,
  onChange,
  defaultStrength,
}: {
  value: StartImageChoice | null;
  onChange: (value: StartImageChoice | null) => void;
  defaultStrength: number;
}) {
  return (
    <div class="tool-panel">
      <StartImagePicker value={value} onChange={onChange} defaultStrength={defaultStrength} />
    </div>
  );
}
