// Turns a time series' columns (groups of one dimension) into chart series: one per group value.

/**
 * The series of the metric `name` per group value, in the server's order (most cost over the range first,
 * so the largest sits at the bottom of a stack and first in its legend); one "All" series of the totals
 * when the columns carry no groups.
 */
export function seriesOf(columns, name) {
  if (!columns.groups.length) return [{ label: "All", values: columns.totals[name] }];
  return columns.groups.map((group) => ({ label: group.dimensions[0]?.value ?? "none", values: group.metrics[name] }));
}
