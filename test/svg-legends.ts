/** Reading Vega's SVG output in tests: the text of its legends' labels and titles. */

function texts(svg: string, role: string): string[] {
  const out: string[] = [];
  for (const m of svg.matchAll(new RegExp(`class="mark-text ${role}"[^>]*>((?:<text[^>]*>[^<]*</text>)+)</g>`, 'g'))) {
    for (const t of m[1]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)) out.push(t[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
  }
  return out;
}

/** Every legend entry's label, in drawing order. */
export const legendLabels = (svg: string): string[] => texts(svg, 'role-legend-label');
/** Every legend's title. */
export const legendTitles = (svg: string): string[] => texts(svg, 'role-legend-title');
/** Every title of a chart or panel (Vega's title marks). */
export const chartTitles = (svg: string): string[] => [...texts(svg, 'role-title-text'), ...texts(svg, 'role-title-subtitle')];
