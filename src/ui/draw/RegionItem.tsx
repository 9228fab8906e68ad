/** One region: select to paint, rename, recolour, prompt, strength, hide, delete. */

import type { Region } from '../../shared/regions/layout';
import { setDrawing } from './drawing-state';
import { deleteRegion, selectRegion, updateRegion } from './strokes';

export function RegionItem({
  region,
  index,
  selected,
}: {
  region: Region;
  index: number;
  selected: boolean;
}) {
  const n = index + 1;
  const update = (patch: Partial<Omit<Region, 'id'>>) =>
    setDrawing((d) => updateRegion(d, region.id, patch));
  return (
    <li
      class={selected ? 'region selected' : 'region'}
      style={{ '--region-colour': region.colour }}
      aria-label={region.name === `Region ${n}` ? region.name : `Region ${n}: ${region.name}`}
    >
      <div class="region-head">
        <button
          type="button"
          aria-pressed={selected}
          aria-label={`Paint Region ${n}`}
          onClick={() => setDrawing((d) => selectRegion(d, region.id))}
        >
          {selected ? 'Painting' : 'Paint'}
        </button>
        <input
          type="color"
          aria-label={`Region ${n} colour`}
          value={region.colour}
          onInput={(e) => update({ colour: e.currentTarget.value.toLowerCase() })}
        />
        <input
          type="text"
          aria-label={`Region ${n} name`}
          value={region.name}
          onInput={(e) => update({ name: e.currentTarget.value })}
        />
      </div>
      <textarea
        rows={1}
        aria-label={`Region ${n} prompt`}
        placeholder="What goes here, e.g. “red square”"
        value={region.prompt}
        onInput={(e) => update({ prompt: e.currentTarget.value })}
      />
      <div class="region-row">
        <label>
          Strength
          <input
            type="range"
            aria-label={`Region ${n} influence`}
            min={0}
            max={1}
            step={0.05}
            value={region.strength}
            onInput={(e) => update({ strength: Number(e.currentTarget.value) })}
          />
        </label>
        <button
          type="button"
          aria-pressed={region.hidden}
          aria-label={`Hide Region ${n}`}
          onClick={() => update({ hidden: !region.hidden })}
        >
          {region.hidden ? 'Hidden' : 'Hide'}
        </button>
        <button
          type="button"
          aria-label={`Delete Region ${n}`}
          onClick={() => setDrawing((d) => deleteRegion(d, region.id))}
        >
          Delete
        </button>
      </div>
    </li>
  );
}
