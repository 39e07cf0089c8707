// Copies the distribution files Pitcrew's pages use from node_modules/ to static/vendor/ (gitignored), under
// stable paths that templates reference. Runs as npm's postinstall, so `npm ci` is the whole front-end build.
//
// Pages must work without internet access: every copied stylesheet is checked for @import and url() pointing
// anywhere but a sibling file or a data: URI, and the script fails if it finds one.

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const target = join(root, 'static', 'vendor');

const FILES = [
  ['@tabler/core/dist/css/tabler.min.css', 'tabler/tabler.min.css'],
  ['@tabler/core/dist/js/tabler.min.js', 'tabler/tabler.min.js'],
  ['@tabler/icons-webfont/dist/tabler-icons.min.css', 'tabler-icons/tabler-icons.min.css'],
  ['@tabler/icons-webfont/dist/fonts/tabler-icons.woff2', 'tabler-icons/fonts/tabler-icons.woff2'],
  ['@tabler/icons-webfont/dist/fonts/tabler-icons.woff', 'tabler-icons/fonts/tabler-icons.woff'],
  ['@tabler/icons-webfont/dist/fonts/tabler-icons.ttf', 'tabler-icons/fonts/tabler-icons.ttf'],
  ['@tabler/icons-webfont/LICENSE', 'tabler-icons/LICENSE'],
  ['htmx.org/dist/htmx.min.js', 'htmx/htmx.min.js'],
  ['htmx.org/LICENSE', 'htmx/LICENSE'],
  ['chart.js/dist/chart.umd.min.js', 'chartjs/chart.umd.min.js'],
  ['chart.js/LICENSE.md', 'chartjs/LICENSE.md'],
  ['cytoscape/dist/cytoscape.min.js', 'cytoscape/cytoscape.min.js'],
  ['cytoscape/LICENSE', 'cytoscape/LICENSE'],
];

const SOURCE_MAP = /\n?\/[/*][#@] sourceMappingURL=([^\s*]+)\s*(\*\/)?\s*$/;

function checkOffline(path, css) {
  const problems = [];
  for (const match of css.matchAll(/@import\s+(?:url\()?\s*['"]?([^'")\s;]+)/g)) {
    problems.push(`@import ${match[1]}`);
  }
  for (const match of css.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)) {
    const url = match[1].trim();
    if (url.startsWith('data:') || url.startsWith('#')) continue;
    if (/^([a-z]+:)?\/\//i.test(url)) problems.push(`url(${url})`);
  }
  if (problems.length) {
    throw new Error(`${path} loads remote resources: ${problems.join(', ')}`);
  }
}

function copy(from, to) {
  const source = join(modules, from);
  const destination = join(target, to);
  if (!existsSync(source)) throw new Error(`missing ${source}: run npm ci`);
  mkdirSync(dirname(destination), { recursive: true });
  if (!/\.(css|js)$/.test(to)) {
    copyFileSync(source, destination);
    return;
  }
  let text = readFileSync(source, 'utf8');
  if (to.endsWith('.css')) checkOffline(from, text);
  // Keep a source map only when the package ships it; a dangling reference breaks `collectstatic`.
  const map = text.match(SOURCE_MAP);
  if (map) {
    const mapSource = join(dirname(source), map[1]);
    if (existsSync(mapSource)) {
      copyFileSync(mapSource, join(dirname(destination), map[1]));
    } else {
      text = text.replace(SOURCE_MAP, '\n');
    }
  }
  writeFileSync(destination, text);
}

rmSync(target, { recursive: true, force: true });
for (const [from, to] of FILES) copy(from, to);
console.log(`vendor: copied ${FILES.length} files to static/vendor/`);
