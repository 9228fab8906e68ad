/**
 * The Create screen's tools: which one is chosen, which the pack can use
 * (and why not), and what choosing one does. Pure.
 */

export const TOOLS = ['regions', 'repaint', 'outline', 'photo'] as const;
export type Tool = (typeof TOOLS)[number];

export const TOOL_LABELS: Record<Tool, string> = {
  regions: 'Regions',
  repaint: 'Repaint',
  outline: 'Outline',
  photo: 'Photo',
};

/** What decides whether a tool can be used now. */
export interface ToolFacts {
  /** The pack can encode an image (start from a photo, repaint). */
  hasImageEncoder: boolean;
  /** The pack has a ControlNet (follow an outline). */
  hasControl: boolean;
  /** A picture is on the canvas (Repaint changes part of it). */
  hasResult: boolean;
}

/** Why a tool cannot be used now (its button's description), or null when it can. */
export function toolProblem(tool: Tool, facts: ToolFacts): string | null {
  switch (tool) {
    case 'regions':
      return null;
    case 'repaint':
      if (!facts.hasImageEncoder)
        return 'This model has no image encoder, so it cannot repaint. Choose another model in Settings.';
      return facts.hasResult ? null : 'Make an image first: Repaint changes part of it.';
    case 'outline':
      return facts.hasControl
        ? null
        : 'This model has no ControlNet, so it cannot follow an outline. Choose another model in Settings.';
    case 'photo':
      return facts.hasImageEncoder
        ? null
        : 'This model has no image encoder, so it cannot start from a photo. Choose another model in Settings.';
  }
}

/** Pressing a tool's button: it opens, or closes when it was open. */
export function toggleTool(current: Tool | null, pressed: Tool): Tool | null {
  return current === pressed ? null : pressed;
}

/** The tool that stays open: none when the chosen one cannot be used now. */
export function usableTool(tool: Tool | null, facts: ToolFacts): Tool | null {
  return tool !== null && toolProblem(tool, facts) === null ? tool : null;
}

/** Tools that draw on the canvas (brush, eraser, undo and redo are theirs). */
export function drawsOnCanvas(tool: Tool | null): boolean {
  return tool === 'regions' || tool === 'repaint' || tool === 'outline';
}
