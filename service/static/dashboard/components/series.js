// Turns time-series buckets (with groups of one dimension) into chart series: one per group value.

/**
 * The series of `pick(metrics)` per group value, in order of first appearance, with `zero` for buckets
 * where a group has no events; one "All" series when the buckets carry no groups.
 */
export function seriesOf(buckets, pick, zero) {
  const labels = [];
  for (const bucket of buckets) {
    for (const group of bucket.groups) {
      const label = group.dimensions[0]?.value ?? "none";
      if (!labels.includes(label)) labels.push(label);
    }
  }
  if (!labels.length) return [{ label: "All", values: buckets.map((b) => pick(b.metrics)) }];
  return labels.map((label) => ({
    label,
    values: buckets.map((b) => {
      const group = b.groups.find((g) => (g.dimensions[0]?.value ?? "none") === label);
      return group ? pick(group.metrics) : zero;
    }),
  }));
}
