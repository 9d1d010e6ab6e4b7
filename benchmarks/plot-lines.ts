/**
 * Line charts for results that carry `timelines: { title, series: [{ label, points: [{ t, value, truth }] }] }`
 * (llm-batch's AdaptiveLimit runs, the adaptive simulation): one panel per series, the adapted
 * value in blue against the provider's true limit in grey, time in seconds. Plain SVG, no dependencies.
 */

export interface TimelineSeries {
  label: string;
  points: { t: number; value: number; truth: number }[];
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function linesSvg(title: string, series: TimelineSeries[], footer: string): string {
  const panelW = 640;
  const panelH = 170;
  const left = 60;
  const top = 40;
  const gap = 50;
  const width = left + panelW + 30;
  const height = top + series.length * (panelH + gap) + 10;
  const panels = series.map((s, i) => {
    const y0 = top + i * (panelH + gap);
    const tMax = Math.max(1, ...s.points.map((p) => p.t));
    const vMax = Math.max(1, ...s.points.map((p) => Math.max(p.value, p.truth))) * 1.1;
    const x = (t: number) => left + (t / tMax) * panelW;
    const y = (v: number) => y0 + panelH - (v / vMax) * panelH;
    const path = (f: (p: { value: number; truth: number }) => number) => s.points.map((p, k) => `${k ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(f(p)).toFixed(1)}`).join('');
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((q) => {
      const t = q * tMax;
      return `<text x="${x(t).toFixed(1)}" y="${y0 + panelH + 14}" text-anchor="middle" fill="#555">${(t / 1000).toFixed(t / 1000 < 10 ? 1 : 0)} s</text>`;
    });
    const vTicks = [0, 0.5, 1].map((q) => {
      const v = (q * vMax) / 1.1;
      return `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${Math.round(v)}</text>`;
    });
    return [
      `<text x="${left}" y="${y0 - 8}" font-weight="bold">${escape(s.label)}</text>`,
      `<rect x="${left}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#ddd"/>`,
      `<path d="${path((p) => p.truth)}" fill="none" stroke="#a0aec0" stroke-width="2" stroke-dasharray="6 3"/>`,
      `<path d="${path((p) => p.value)}" fill="none" stroke="#2b6cb0" stroke-width="1.5"/>`,
      ...ticks,
      ...vTicks,
    ].join('\n  ');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>
  <text x="${width - 10}" y="20" text-anchor="end"><tspan fill="#2b6cb0">— adapted value</tspan>  <tspan fill="#718096">- - provider's true limit</tspan></text>
  ${panels.join('\n  ')}
  <text x="10" y="${height - 4}" fill="#555">${escape(footer)}</text>
</svg>
`;
}
