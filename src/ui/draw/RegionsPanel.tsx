/** The regions list, the "Add region" button and the sketch-to-image options. */

import { RegionItem } from './RegionItem';
import { setDrawing, setSketch, useDrawingState } from './drawing-state';
import { addRegion, MAX_REGIONS } from './strokes';

export function RegionsPanel() {
  const { drawing, sketch } = useDrawingState();
  return (
    <section class="regions" aria-labelledby="regions-title">
      <h2 id="regions-title">Regions</h2>
      {drawing.regions.length === 0 && (
        <p class="hint">
          Paint on the picture (or add a region), then say what goes there. The main prompt fills
          the rest.
        </p>
      )}
      <ol>
        {drawing.regions.map((region, index) => (
          <RegionItem
            key={region.id}
            region={region}
            index={index}
            selected={region.id === drawing.selected}
          />
        ))}
      </ol>
      <button
        type="button"
        disabled={drawing.regions.length >= MAX_REGIONS}
        onClick={() => setDrawing(addRegion)}
      >
        Add region
      </button>
      <div class="sketch">
        <label>
          <input
            type="checkbox"
            checked={sketch.enabled}
            onChange={(e) => setSketch({ enabled: e.currentTarget.checked })}
          />
          Use drawing as starting image
        </label>
        <label>
          Drawing influence
          <input
            type="range"
            min={0.05}
            max={0.95}
            step={0.05}
            value={sketch.strength}
            disabled={!sketch.enabled}
            onInput={(e) => setSketch({ strength: Number(e.currentTarget.value) })}
          />
        </label>
      </div>
    </section>
  );
}
