/** The drawing feature's public face for the Create screen. */

export { DrawingLayer } from './DrawingLayer';
export { DrawingTools } from './DrawingTools';
export { RegionsPanel } from './RegionsPanel';
export { currentLayout, layoutForGenerate, restoreLayout } from './drawing-state';
export { repaintMask, setRepaint, useRepaintMode } from './drawing-state';
export { outlineMask, outlineSnapshot, setOutline, useOutlineMode } from './drawing-state';
