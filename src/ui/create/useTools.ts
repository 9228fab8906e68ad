/**
 * The open tool, in one place (the Create state), kept in step with the
 * drawing's modes: Repaint paints the mask, Outline draws the lines, Regions
 * paints the regions; no tool leaves the canvas as just the picture.
 */

import { useEffect } from 'preact/hooks';
import { setOutline, setRepaint } from '../draw';
import { patchCreate, useCreate } from './create-store';
import { toggleTool, usableTool, type Tool, type ToolFacts } from './tools';

function syncDrawingMode(tool: Tool | null): void {
  setRepaint(tool === 'repaint');
  setOutline(tool === 'outline');
}

export function selectTool(tool: Tool | null): void {
  patchCreate({ tool });
  syncDrawingMode(tool);
}

export function useTools(facts: ToolFacts, known: boolean) {
  const { tool } = useCreate();
  const usable = usableTool(tool, facts);
  // A tool the pack (or the picture) no longer allows closes, once the pack's settings are known.
  useEffect(() => {
    if (known && tool !== usable) selectTool(usable);
  }, [known, tool, usable]);
  // The drawing's mode follows the tool (also after a reload brought the tool back).
  useEffect(() => syncDrawingMode(tool), []);
  return {
    tool,
    press: (pressed: Tool) => selectTool(toggleTool(tool, pressed)),
  };
}
