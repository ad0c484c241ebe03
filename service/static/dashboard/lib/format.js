// How numbers, money and times read on the page. Money stays a decimal string end to end: Intl formats
// a string as an exact decimal (no float), rounded for display; the exact value goes in `title`.
const locale = navigator.language || "en-US";

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const integers = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
const dollarsBig = new Intl.NumberFormat(locale, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const dollarsSmall = new Intl.NumberFormat(locale, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6 });
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" });
const shortDateTime = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function isBlank(value) {
  return value === null || value === undefined || value === "";
}

/** "$0.0035" for "0.0035"; below a dollar up to 6 decimals, else cents. Never through a float. */
export function money(decimal) {
  if (isBlank(decimal)) return "—";
  const text = String(decimal);
  const small = /^-?0(\.|$)/.test(text);
  return (small ? dollarsSmall : dollarsBig).format(text);
}

export function count(value) {
  return isBlank(value) ? "—" : integers.format(value);
}

const compactCounts = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });

/** "189.5M" for a count too long for a headline card (the exact one goes in its title); short ones as they are. */
export function shortCount(value) {
  return !isBlank(value) && Math.abs(value) >= 10_000_000 ? compactCounts.format(value) : count(value);
}

export function milliseconds(value) {
  if (isBlank(value)) return "—";
  if (value < 10_000) return `${integers.format(value)} ms`;
  if (value < 600_000) return `${decimals.format(value / 1000)} s`;
  const minutes = Math.round(value / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function rate(value) {
  return isBlank(value) ? "—" : `${decimals.format(value)} tok/s`;
}

/** A share (0..1) as a percentage. */
export function share(value) {
  return isBlank(value) ? "—" : `${decimals.format(value * 100)}%`;
}

/** A change in percent of the previous value: "+12.5%", "−3.0%", "new" when there was nothing before. */
export function change(percent, hadPrevious) {
  if (isBlank(percent)) return hadPrevious ? "—" : "new";
  const shown = Math.round(percent * 10) / 10; // the sign of what is shown: never "−0%"
  const sign = shown > 0 ? "+" : shown < 0 ? "−" : "±";
  return `${sign}${decimals.format(Math.abs(shown))}%`;
}

export function when(iso) {
  return isBlank(iso) ? "—" : dateTime.format(new Date(iso));
}

export function shortWhen(iso) {
  return isBlank(iso) ? "—" : shortDateTime.format(new Date(iso));
}

export function tags(object) {
  const entries = Object.entries(object ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(", ") : "—";
}

/** The cache-hit share of prompt tokens (cached reads / all prompt tokens), null without prompt tokens. */
export function cacheHitShare(metrics) {
  if (!metrics || !Number(metrics.promptTokens)) return null;
  return Number(metrics.cachedPromptTokens) / Number(metrics.promptTokens);
}
