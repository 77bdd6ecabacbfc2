/**
 * The live-reload script a browser loads from `/.sockserve/livereload.js` (every HTML page gets a
 * tag for it under `--watch`). It listens to the server's events; when only stylesheets changed
 * it swaps the page's same-origin stylesheets in place (a new `<link>` with a cache-busting query,
 * the old one removed once the new one has loaded, so the page never shows unstyled), otherwise
 * it reloads the page. EventSource reconnects by itself after a restart of the server.
 */
export const LIVE_RELOAD_SCRIPT = `// sockserve live reload (--watch)
(() => {
  "use strict";
  if (window.__sockserveLiveReload) return;
  // Kept on the window: loaded twice, the page still has one stream, and a test can see it open.
  const source = new EventSource("/.sockserve/livereload");
  window.__sockserveLiveReload = source;
  const isCss = (path) => /\\.css$/i.test(path);
  function swapStylesheets() {
    const links = document.querySelectorAll('link[rel~="stylesheet"][href]');
    let swapped = 0;
    for (const link of links) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin) continue;
      url.searchParams.set("sockserve-reload", String(Date.now()));
      const fresh = link.cloneNode();
      fresh.href = url.href;
      const done = () => link.remove();
      fresh.addEventListener("load", done, { once: true });
      fresh.addEventListener("error", done, { once: true });
      link.after(fresh);
      swapped++;
    }
    return swapped;
  }
  source.addEventListener("change", (event) => {
    let paths = [];
    try {
      paths = JSON.parse(event.data).paths;
    } catch {
      // an event from another version: reload
    }
    if (paths.length > 0 && paths.every(isCss)) {
      console.info("[sockserve] stylesheet changed:", paths.join(", "));
      if (swapStylesheets() > 0) return;
    }
    console.info("[sockserve] changed:", paths.join(", "), "- reloading");
    location.reload();
  });
})();
`;
