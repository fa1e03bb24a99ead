// In-app navigation for pages (a history entry, then the app renders the new URL): keeps pages free of main.ts.

/** Navigates inside the app without a reload; main.ts renders on the `hub:navigate` event. */
export function go(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new Event('hub:navigate'));
}
