import { createRequire } from 'node:module';
import path from 'node:path';
/**
 * The review pack's charts: a Vega-Lite spec, laid out by a Vega view without a browser, drawn to SVG
 * and rasterised to PNG by resvg. The font ships with the bot and system fonts are never read, so a
 * chart looks the same on every machine.
 */
const FONT_FAMILY = 'DejaVu Sans';
const FONT_FILE = path.join(path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf');
export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 360;
/** The PNG background; anything drawn differs from it. */
export const CHART_BACKGROUND = '#ffffff';
/** The PNG is exactly CHART_WIDTH × CHART_HEIGHT pixels, whatever the legend and labels need. */
function sized(spec) {
    return {
        ...spec,
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        autosize: { type: 'fit', contains: 'padding' },
        padding: 12,
        background: CHART_BACKGROUND,
        config: { font: FONT_FAMILY, title: { fontSize: 15 }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
    };
}
// Loaded on first use: the bot starts without them, and only a review pack draws charts.
export async function chartSvg(chart) {
    const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
    const view = new vega.View(vega.parse(compile(sized(chart.spec)).spec), { renderer: 'none' });
    try {
        return await view.toSVG();
    }
    finally {
        view.finalize();
    }
}
export async function chartPng(chart) {
    const svg = await chartSvg(chart);
    const { Resvg } = await import('@resvg/resvg-js');
    const png = new Resvg(svg, {
        font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
        fitTo: { mode: 'original' },
        background: CHART_BACKGROUND,
    }).render().asPng();
    return Buffer.from(png);
}
/** Whole-number ticks for counts: a count of 2.5 controls means nothing. */
function countAxis(max) {
    const top = Math.max(1, Math.ceil(max));
    const step = Math.max(1, Math.ceil(top / 8));
    return { format: 'd', values: Array.from({ length: Math.floor(top / step) + 1 }, (_, i) => i * step) };
}
export function poamChart(months) {
    return {
        name: 'poam-open-closed',
        title: 'POA&M items open and closed over time',
        spec: {
            title: 'POA&M items open and closed, month by month',
            data: { values: months.flatMap((m) => [{ month: m.month, state: 'open', items: m.open }, { month: m.month, state: 'closed', items: m.closed }]) },
            mark: { type: 'line', point: true, strokeWidth: 3 },
            encoding: {
                x: { field: 'month', type: 'ordinal', title: 'Month end (the last point is today)', axis: { labelAngle: 0 } },
                y: { field: 'items', type: 'quantitative', title: 'Items', axis: countAxis(Math.max(0, ...months.map((m) => Math.max(m.open, m.closed)))) },
                color: { field: 'state', type: 'nominal', title: 'State', scale: { domain: ['open', 'closed'], range: ['#d9480f', '#2b8a3e'] } },
            },
        },
    };
}
export function freshnessChart(areas) {
    return {
        name: 'evidence-freshness',
        title: 'Evidence freshness by control area',
        spec: {
            title: 'Evidence freshness by control area (applicable controls)',
            data: {
                values: areas.flatMap((a) => [
                    { area: a.area, state: 'fresh', controls: a.fresh }, { area: a.area, state: 'stale', controls: a.stale }, { area: a.area, state: 'none', controls: a.missing },
                ]),
            },
            mark: 'bar',
            encoding: {
                y: { field: 'area', type: 'nominal', title: 'Control area' },
                x: { field: 'controls', type: 'quantitative', title: 'Controls', stack: 'zero', axis: countAxis(Math.max(0, ...areas.map((a) => a.fresh + a.stale + a.missing))) },
                color: { field: 'state', type: 'nominal', title: 'Evidence', scale: { domain: ['fresh', 'stale', 'none'], range: ['#2b8a3e', '#f59f00', '#c92a2a'] } },
            },
        },
    };
}
export function coverageChart(measures) {
    return {
        name: 'policy-training',
        title: 'Policy acknowledgement and training completion',
        spec: {
            title: 'Policy acknowledgement and training completion',
            data: { values: measures.map((m) => ({ measure: m.measure, percent: m.expected === 0 ? 0 : Math.round((m.done / m.expected) * 100), label: `${m.done} of ${m.expected}` })) },
            layer: [
                { mark: { type: 'bar', color: '#1971c2' } },
                { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'label' } } },
            ],
            encoding: {
                y: { field: 'measure', type: 'nominal', title: null, axis: { labelLimit: 240 } },
                x: { field: 'percent', type: 'quantitative', title: 'Complete (%)', scale: { domain: [0, 100] } },
            },
        },
    };
}
export function riskChart(risks, appetite) {
    const bars = {
        mark: 'bar',
        encoding: {
            x: { field: 'risk', type: 'nominal', title: 'Risk', sort: null, axis: { labelAngle: 0 } },
            y: { field: 'residualScore', type: 'quantitative', title: 'Residual score', scale: { domain: [0, 25] } },
            color: {
                field: 'against', type: 'nominal', title: 'Against appetite',
                scale: { domain: ['within appetite', 'over appetite'], range: ['#2b8a3e', '#c92a2a'] },
            },
        },
    };
    const rule = {
        data: { values: [{ appetite }] },
        mark: { type: 'rule', color: '#000000', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: 'appetite', type: 'quantitative' } },
    };
    return {
        name: 'risks-appetite',
        title: 'Risks by residual score against the appetite',
        spec: {
            title: appetite === undefined ? 'Risks by residual score (no risk appetite recorded)' : `Risks by residual score; appetite ${appetite} (dashed line)`,
            data: {
                values: risks.map((r) => ({
                    risk: r.ref, residualScore: r.residualScore,
                    against: appetite !== undefined && r.residualScore > appetite ? 'over appetite' : 'within appetite',
                })),
            },
            layer: appetite === undefined ? [bars] : [bars, rule],
        },
    };
}
//# sourceMappingURL=charts.js.map