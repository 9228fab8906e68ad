/** The one bar of tools: Regions, Repaint, Outline and Photo, as toggle buttons; one open at a time. */

import { TOOL_LABELS, TOOLS, toolProblem, type Tool, type ToolFacts } from './tools';

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
    <div class="tool-bar" role="toolbar" aria-label="Tools">
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
