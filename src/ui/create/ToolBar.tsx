/** The one bar of tools: Regions, Repaint, Outline and Photo, as toggle buttons; one open at a time. */

import { TOOL_LABELS, TOOLS, toolProblem, type Tool, type ToolFacts } from './tools';

/** Arrow keys move between the tools that can be used, as in any toolbar. */
function moveFocus(event: KeyboardEvent): void {
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (!step) return;
  const buttons = [
    ...(event.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>('button'),
  ].filter((b) => !b.disabled);
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0 || buttons.length === 0) return;
  event.preventDefault();
  buttons[(at + step + buttons.length) % buttons.length]!.focus();
}

export function ToolBar({
  tool,
  facts,
  onTool,
}: {
  tool: Tool | null;
  facts: ToolFacts;
  onTool: (tool: Tool) => void;
}) {
  return (
    <div class="tool-bar" role="toolbar" aria-label="Tools" onKeyDown={moveFocus}>
      {TOOLS.map((t) => {
        const problem = toolProblem(t, facts);
        const reasonId = `tool-${t}-reason`;
        return (
          <button
            key={t}
            type="button"
            class={`tool-${t}`}
            aria-pressed={tool === t}
            disabled={problem !== null}
            aria-describedby={problem ? reasonId : undefined}
            onClick={() => onTool(t)}
          >
            {TOOL_LABELS[t]}
          </button>
        );
      })}
      {TOOLS.map((t) => {
        const problem = toolProblem(t, facts);
        return (
          problem && (
            <span key={t} id={`tool-${t}-reason`} class="visually-hidden">
              {problem}
            </span>
          )
        );
      })}
    </div>
  );
}
