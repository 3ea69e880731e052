// The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched when
// it is viewed) answering "why is my image big?": dive's figures, the treemap, a bar per layer
// with its command, the inefficient files and why they count, the history and the config.
import { goFixed, humanizeBytes } from '@strata/inspect';
import type { ImageModel } from './image-model';
import { escapeXml, layerColor, renderTreemapSvg } from './treemap';

const esc = escapeXml;

/** One bar per layer, length ∝ its bytes, labelled with its size and command. */
export function renderLayerBars(model: ImageModel, width = 1200): string {
  const rowH = 22;
  const labelW = 90;
  const barMax = 360;
  const max = Math.max(1, ...model.layers.map((l) => l.sizeBytes));
  const h = model.layers.length * rowH + 6;
  const rows = model.layers.map((l, i) => {
    const y = i * rowH + 4;
    const w = Math.max(l.sizeBytes > 0 ? 1 : 0, (l.sizeBytes / max) * barMax);
    const cmd = l.command.replace(/\s+/g, ' ');
    const shown = cmd.length > 110 ? `${cmd.slice(0, 109)}…` : cmd;
    return [
      `<g class="layer" data-layer="${i}" data-bytes="${l.sizeBytes}"><title>${esc(`layer ${i} ${l.diffId}\n${humanizeBytes(l.sizeBytes)}\n${l.command}`)}</title>`,
      `<text x="0" y="${y + 14}">${i}</text>`,
      `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(humanizeBytes(l.sizeBytes))}</text>`,
      `<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(2)}" height="${rowH - 6}" fill="${layerColor(i)}"/>`,
      `<text x="${labelW + barMax + 12}" y="${y + 14}" class="cmd">${esc(shown)}</text></g>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="bars" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" font-family="sans-serif" font-size="12">${rows.join('\n')}</svg>`;
}

interface History {
  created?: string;
  created_by?: string;
  empty_layer?: boolean;
  comment?: string;
}

export function renderHtmlReport(model: ImageModel): string {
  const a = model.analysis;
  const c = model.config as { created?: string; os?: string; architecture?: string; history?: History[] };
  const figures: Array<[string, string]> = [
    ['Total image size', `${humanizeBytes(a.sizeBytes)} (${a.sizeBytes} bytes)`],
    ['Efficiency score', `${goFixed(a.efficiency * 100, 2)} %`],
    ['Wasted bytes (dive)', `${humanizeBytes(a.wastedBytes)} (${a.wastedBytes} bytes)`],
    ['Bytes added by user layers', `${humanizeBytes(a.userSizeBytes)} (${a.userSizeBytes} bytes)`],
    ['Wasted / user bytes', Number.isFinite(a.wastedUserPercent) ? `${goFixed(a.wastedUserPercent * 100, 2)} %` : 'n/a'],
    ['Reclaimable by a rebuild', `${humanizeBytes(a.reclaimableBytes)} (${a.reclaimableBytes} bytes)`],
  ];
  const legend = model.layers
    .map((l) => `<span class="key"><i style="background:${layerColor(l.index)}"></i>layer ${l.index}</span>`)
    .join(' ');
  const wasted = a.inefficiencies
    .slice(0, 200)
    .map((p) => `<tr><td>${p.count}</td><td class="n">${esc(humanizeBytes(p.sizeBytes))}</td><td class="n">${esc(humanizeBytes(p.reclaimableBytes))}</td><td><code>${esc(p.file)}</code></td><td>${esc(p.why)}</td></tr>`)
    .join('\n');
  const history = (c.history ?? [])
    .map((h, i) => `<tr><td>${i}</td><td>${esc(h.created ?? '')}</td><td>${h.empty_layer ? 'no' : 'yes'}</td><td><code>${esc(h.created_by ?? '')}</code></td><td>${esc(h.comment ?? '')}</td></tr>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(model.name)}: image report</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: #666; font-size: 12px; font-family: monospace; }
table { border-collapse: collapse; font-size: 12px; } td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; } .figures td:first-child { color: #555; }
.figures td:last-child { font-weight: bold; }
.key { display: inline-block; margin: 0 10px 4px 0; font-size: 12px; } .key i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
.key.wasted i { background: repeating-linear-gradient(45deg, #999, #999 2px, #fff 2px, #fff 5px); }
pre { background: #f6f6f6; padding: 8px; font-size: 11px; overflow: auto; max-height: 400px; }
svg text.cmd { font-family: monospace; font-size: 11px; }
</style>
</head>
<body>
<h1>${esc(model.name)}</h1>
<div class="sub">${esc(model.id)} · ${esc(`${c.os ?? '?'}/${c.architecture ?? '?'}`)} · created ${esc(c.created ?? 'unknown')} · ${model.layers.length} layers</div>
<h2>Efficiency (as dive counts it)</h2>
<table class="figures">
${figures.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('\n')}
</table>
<h2>Where the bytes are</h2>
<div>${legend} <span class="key wasted"><i></i>hatched: not visible in the image (overwritten or deleted above)</span></div>
${renderTreemapSvg(model)}
<h2>Layers</h2>
${renderLayerBars(model)}
<h2>Inefficient files (${a.inefficiencies.length})</h2>
${a.inefficiencies.length ? `<table><tr><th>Count</th><th>Wasted</th><th>Reclaimable</th><th>Path</th><th>Why</th></tr>\n${wasted}\n</table>` : '<p>None: no path is held by more than one layer.</p>'}
<h2>History</h2>
<table><tr><th>#</th><th>Created</th><th>Layer</th><th>Created by</th><th>Comment</th></tr>
${history}
</table>
<h2>Config</h2>
<pre>${esc(JSON.stringify(model.config, null, 2))}</pre>
</body>
</html>
`;
}
