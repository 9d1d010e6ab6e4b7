/**
 * Turns benchmarks/results/<suite>.json into docs/charts/<suite>.svg: one horizontal bar per
 * contender (ops/s, or the suite's `chart` metric), ours highlighted. `npm run bench:plot`.
 * Plain SVG text, no dependencies, so the charts regenerate anywhere.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linesSvg } from './plot-lines.js';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');
const chartsDir = join(here, '..', 'docs', 'charts');

interface Bar {
  label: string;
  value: number;
}

/** Which bars a result file shows: `chart: { metric, unit, bars }` if the suite gave one, else ops/s. */
function barsOf(result: any): { bars: Bar[]; unit: string; title: string } | undefined {
  if (result.chart?.bars) return { bars: result.chart.bars, unit: result.chart.unit ?? '', title: result.chart.title ?? result.suite };
  if (Array.isArray(result.results) && result.results.every((r: any) => typeof r.opsPerSec === 'number')) {
    return {
      bars: result.results.map((r: any) => ({ label: r.name, value: r.opsPerSec })),
      unit: 'ops/s',
      title: `${result.suite} — ops/s (higher is better)`,
    };
  }
  return undefined;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function svg(title: string, bars: Bar[], unit: string, footer: string): string {
  const rowH = 26;
  const labelW = 230;
  const barW = 420;
  const width = labelW + barW + 140;
  const height = 50 + bars.length * rowH + 30;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const rows = bars
    .map((b, i) => {
      const y = 40 + i * rowH;
      const w = Math.max(1, (b.value / max) * barW);
      const ours = /concurry/i.test(b.label);
      const value = b.value >= 1000 ? Math.round(b.value).toLocaleString('en-US') : b.value.toPrecision(3);
      return (
        `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escape(b.label)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${ours ? '#2b6cb0' : '#a0aec0'}"/>` +
        `<text x="${labelW + w + 6}" y="${y + 16}">${value} ${escape(unit)}</text>`
      );
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="10" y="22" font-size="14" font-weight="bold">${escape(title)}</text>
  ${rows}
  <text x="10" y="${height - 10}" fill="#555">${escape(footer)}</text>
</svg>
`;
}

export function plotAll(): string[] {
  mkdirSync(chartsDir, { recursive: true });
  const written: string[] = [];
  for (const file of readdirSync(resultsDir).filter((f) => f.endsWith('.json'))) {
    const result = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
    const m = result.machine ?? {};
    const footer = `node ${m.node ?? '?'} · ${m.cpus ?? '?'} CPUs · ${m.cpuModel ?? '?'} · ${result.date ?? ''}`;
    if (result.timelines?.series) {
      const out = join(chartsDir, file.replace(/\.json$/, '-adaptive.svg'));
      writeFileSync(out, linesSvg(result.timelines.title, result.timelines.series, footer));
      written.push(out);
    }
    const chart = barsOf(result);
    if (!chart) continue;
    const out = join(chartsDir, file.replace(/\.json$/, '.svg'));
    writeFileSync(out, svg(chart.title, chart.bars, chart.unit, footer));
    written.push(out);
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of plotAll()) console.log(`wrote ${f}`);
}
