// The API key lives in this tab's sessionStorage only: closing the tab forgets it.
const KEY = "llm-usage.apiKey";

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}
