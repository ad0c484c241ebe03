"""A stacked chart lists its series in one order everywhere: the legend (left to right), the tooltip, the
numbers table, and the stack as painted (bottom to top), read from the canvas' pixels."""

from __future__ import annotations

# Four UTC days around the seeded range: day buckets, two of which stack two providers.
DAYS = "from=2025-06-09T00:00:00Z&to=2025-06-13T00:00:00Z"

# For each pixel column of the chart's canvas, the series colours met from the bottom up (exact fills only:
# bars have no stroke, so anti-aliased edges are the only other colours), each distinct sequence once.
STACKS_SCRIPT = """
const canvas = document.querySelector(`figure[data-chart='${arguments[0]}'] canvas`);
const { width, height } = canvas;
const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
const palette = new Set(arguments[1]);
const hex = (i) => '#' + [0, 1, 2].map((k) => pixels[i + k].toString(16).padStart(2, '0')).join('');
const found = new Set();
for (let x = 0; x < width; x++) {
  const stack = [];
  for (let y = height - 1; y >= 0; y--) {
    const i = (y * width + x) * 4;
    const colour = hex(i);
    if (pixels[i + 3] === 255 && palette.has(colour) && stack[stack.length - 1] !== colour) stack.push(colour);
  }
  if (stack.length) found.add(JSON.stringify(stack));
}
return [...found].map((s) => JSON.parse(s));
"""

LEGEND_SCRIPT = """
return [...document.querySelectorAll(`figure[data-chart='${arguments[0]}'] .u-legend .u-series`)].slice(1).map((row) => {
  const marker = getComputedStyle(row.querySelector('.u-marker')).backgroundColor.match(/\\d+/g).slice(0, 3);
  return [row.querySelector('.u-label').textContent, '#' + marker.map((v) => Number(v).toString(16).padStart(2, '0')).join('')];
});
"""


def palette(browser):
    return browser.driver.execute_script("return import('/dashboard/components/time-chart.js').then((m) => m.PALETTE)")


def test_a_stacked_charts_legend_lists_its_series_bottom_up_as_the_stack(browser, dashboard):
    browser.sign_in(dashboard.read_key, f"#/overview?ws={dashboard.workspace.slug}&{DAYS}")
    browser.find("figure[data-chart=cost] canvas")
    browser.idle()
    for chart in ("cost", "calls"):
        figure = f"figure[data-chart={chart}]"
        series = browser.driver.execute_script(f"return JSON.parse(document.querySelector('{figure}').dataset.labels)")
        assert series == ["openai", "anthropic", "acme"]  # most cost first (acme is unpriced: $0)
        legend = browser.driver.execute_script(LEGEND_SCRIPT, chart)
        assert [label for label, _ in legend] == series
        headers = browser.find_all(f"{figure} table thead th")
        assert [h.get_attribute("textContent") for h in headers[1:]] == series
        colours = palette(browser)
        assert [colour for _, colour in legend] == colours[:3]
        stacks = browser.driver.execute_script(STACKS_SCRIPT, chart, colours[:3])
        label_of = {colour: label for label, colour in legend}
        painted = sorted([label_of[c] for c in stack] for stack in stacks)
        # 9 June: openai; 10 June: openai under anthropic; 11 June: openai under acme (calls; acme costs $0)
        expected = [["openai"], ["openai", "anthropic"]] + ([["openai", "acme"]] if chart == "calls" else [])
        assert painted == sorted(expected), (chart, painted)
