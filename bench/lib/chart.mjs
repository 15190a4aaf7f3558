// bench/results.svg, written by hand (no dependency): for each comparison, one horizontal bar per
// tool — median wall time on a log scale with a whisker from the fastest to the slowest run — and
// next to it the median peak memory (log scale as well). codegen's bars are blue, the peers' grey;
// a tool whose output check failed is drawn hatched with a ✖.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function logScale(min, max, x0, x1) {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  return (v) => x0 + ((Math.log10(Math.max(v, min)) - lo) / (hi - lo)) * (x1 - x0);
}

function ticks(min, max, values) {
  return values.filter((v) => v >= min && v <= max);
}

const formatTime = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : ms >= 100_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);

/**
 * @param {Array<{title: string, bars: Array<{label: string, role: string, wall: {median,min,max}|null, rss: {median}|null, invalid?: boolean, note?: string, ratio?: string}>}>} panels
 * @param {{title: string, subtitle: string}} meta
 */
export function renderChart(panels, meta) {
  const width = 1180;
  const labelW = 330;
  const timeX0 = labelW + 10;
  const timeX1 = 820;
  const memX0 = 900;
  const memX1 = 1100;
  const barH = 16;
  const gap = 5;
  const panelGap = 30;
  const top = 78;
  const all = panels.flatMap((p) => p.bars).filter((b) => b.wall);
  const tMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...all.map((b) => b.wall.min)))));
  const tMax = 10 ** Math.ceil(Math.log10(Math.max(...all.map((b) => b.wall.max))));
  const mems = all.filter((b) => b.rss).map((b) => b.rss.median);
  const mMin = mems.length ? 10 ** Math.floor(Math.log10(Math.min(...mems))) : 10;
  const mMax = mems.length ? 10 ** Math.ceil(Math.log10(Math.max(...mems))) : 1000;
  const tx = logScale(tMin, tMax, timeX0, timeX1);
  const mx = logScale(mMin, mMax, memX0, memX1);
  const height = top + panels.reduce((h, p) => h + 22 + p.bars.length * (barH + gap) + panelGap, 0) + 46;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6d3d3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c0392b" stroke-width="2"/></pattern></defs>');
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="16" font-weight="bold">${esc(meta.title)}</text>`);
  out.push(`<text x="12" y="40" fill="#555">${esc(meta.subtitle)}</text>`);
  out.push(`<text x="${timeX0}" y="${top - 12}" font-weight="bold">wall time, median (whisker: fastest–slowest run), log scale</text>`);
  out.push(`<text x="${memX0}" y="${top - 12}" font-weight="bold">peak memory (log)</text>`);
  let y = top;
  const gridTop = top - 4;
  const timeTicks = ticks(tMin, tMax, [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]);
  const memTicks = ticks(mMin, mMax, [1, 10, 100, 1000, 10_000]);
  const body = [];
  for (const panel of panels) {
    body.push(`<text x="12" y="${y + 12}" font-weight="bold">${esc(panel.title)}</text>`);
    y += 22;
    for (const bar of panel.bars) {
      const codegen = bar.role === 'codegen';
      const colour = codegen ? '#1f6feb' : '#8b949e';
      body.push(`<text x="${labelW}" y="${y + barH - 4}" text-anchor="end" fill="${codegen ? '#0b3d91' : '#333'}">${esc(bar.label)}${bar.invalid ? ' ✖' : ''}</text>`);
      if (bar.wall) {
        const fill = bar.invalid ? 'url(#hatch)' : colour;
        const x = tx(bar.wall.median);
        body.push(`<rect x="${timeX0}" y="${y}" width="${Math.max(1, x - timeX0).toFixed(1)}" height="${barH}" fill="${fill}"><title>${esc(`${bar.label}: median ${formatTime(bar.wall.median)}, ${formatTime(bar.wall.min)}–${formatTime(bar.wall.max)}${bar.note ? ` — ${bar.note}` : ''}`)}</title></rect>`);
        body.push(`<line x1="${tx(bar.wall.min).toFixed(1)}" x2="${tx(bar.wall.max).toFixed(1)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#000" stroke-width="1"/>`);
        const ratio = bar.ratio ? `\u00a0\u00a0(${bar.ratio})` : '';
        body.push(`<text x="${Math.min(timeX1 - 60, Math.max(x, tx(bar.wall.max)) + 4).toFixed(1)}" y="${y + barH - 4}" fill="#000">${esc(formatTime(bar.wall.median))}<tspan fill="#555">${esc(ratio)}</tspan></text>`);
      } else {
        body.push(`<text x="${timeX0 + 4}" y="${y + barH - 4}" fill="#c0392b">${esc(bar.note ?? 'not measured')}</text>`);
      }
      if (bar.rss) {
        const x = mx(bar.rss.median);
        body.push(`<rect x="${memX0}" y="${y}" width="${Math.max(1, x - memX0).toFixed(1)}" height="${barH}" fill="${bar.invalid ? 'url(#hatch)' : colour}" opacity="0.8"/>`);
        body.push(`<text x="${(x + 4).toFixed(1)}" y="${y + barH - 4}" fill="#000">${Math.round(bar.rss.median)} MB</text>`);
      }
      y += barH + gap;
    }
    y += panelGap - gap;
  }
  const gridBottom = y - panelGap + 10;
  for (const t of timeTicks) {
    const x = tx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${gridTop}" y2="${gridBottom}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${gridBottom + 14}" text-anchor="middle" fill="#555">${esc(formatTime(t))}</text>`);
  }
  for (const t of memTicks) {
    const x = mx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${gridTop}" y2="${gridBottom}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${gridBottom + 14}" text-anchor="middle" fill="#555">${t} MB</text>`);
  }
  out.push(...body);
  out.push(`<text x="12" y="${height - 24}" fill="#555">blue: codegen · grey: the peers, in brackets their time ÷ the first codegen row's (median of the rounds; above 1: codegen is faster)</text>`);
  out.push(`<text x="12" y="${height - 8}" fill="#555">✖ hatched: the output check failed, the figure does not count · every figure, its spread and the commands: bench/RESULTS.md</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
