/** Step i of n (or bytes while loading), announced to assistive technology. */
export function ProgressBar({
  label,
  done,
  total,
  text,
}: {
  label: string;
  done: number;
  total: number;
  text: string;
}) {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={done}
      aria-valuetext={text}
    >
      <div class="progress-fill" style={{ width: `${fraction * 100}%` }} />
      <span class="progress-text">{text}</span>
    </div>
  );
}
