// Headless-Chromium check of the built documentation site.
//
//   node scripts/browser/check.mjs --base http://127.0.0.1:8000/ [--out DIR] [--expect-api NAME ...]
//       [--expect-notebook PATH ...] [--chromium /usr/bin/chromium]
//
// The site must already be served at --base (tests/test_docs_browser.py serves site/ with
// `python -m http.server` on loopback). Prints one JSON report on stdout and exits 1 when a
// check failed, 2 when the browser could not be started. Requests that leave the loopback
// server are not sent but aborted and listed: the site must render everything it shows
// (Mermaid included) from its own files.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const args = { expectApi: [], expectNotebook: [], out: null, chromium: '/usr/bin/chromium', base: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--base') args.base = value;
    else if (flag === '--out') args.out = value;
    else if (flag === '--chromium') args.chromium = value;
    else if (flag === '--expect-api') args.expectApi.push(value);
    else if (flag === '--expect-notebook') args.expectNotebook.push(value);
    else throw new Error(`unknown argument ${flag}`);
    i++;
  }
  if (!args.base) throw new Error('--base URL is required');
  if (!args.base.endsWith('/')) args.base += '/';
  return args;
}

const args = parseArgs(process.argv.slice(2));
const base = new URL(args.base);
const failures = [];
const report = { base: args.base, pages: {}, externalRequestsBlocked: [], screenshots: [], failures };
const fail = (message) => failures.push(message);

async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'docs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${base.hostname}`,
    ],
    viewport: { width: 1280, height: 900 },
  });
  // Off-site requests are refused by the browser's own resolver (which keeps its HTTP
  // cache, unlike request interception) and recorded here.
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === base.origin || !/^https?:$/.test(url.protocol)) return;
    if (!report.externalRequestsBlocked.includes(url.origin + url.pathname)) {
      report.externalRequestsBlocked.push(url.origin + url.pathname);
    }
  });
  return { context, profile };
}

// The pages of the site a link leads to from `hrefs`: same origin, under the base path,
// a page (not a file), without query or fragment.
// (mkdocs writes sitemap.xml entries only when site_url is set.)
function sitePagesIn(hrefs) {
  const found = [];
  for (const href of hrefs) {
    const target = new URL(href);
    target.hash = '';
    target.search = '';
    const isPage = target.pathname.endsWith('/') || target.pathname.endsWith('.html');
    if (target.origin === base.origin && target.pathname.startsWith(base.pathname) && isPage) found.push(target.href);
  }
  return found;
}

const pageErrors = new Map();
const statusCache = new Map();
const idCache = new Map();

async function status(url) {
  const key = url.split('#')[0];
  if (!statusCache.has(key)) {
    const response = await fetch(key, { redirect: 'follow' });
    statusCache.set(key, response.status);
  }
  return statusCache.get(key);
}

async function visit(context, url, { dark = false } = {}) {
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme: dark ? 'dark' : 'light' });
  const errors = [];
  page.on('pageerror', (error) => errors.push(`JavaScript error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // Requests this check refused to send (GitHub repository stats, ...) log errors too.
    if (/ERR_BLOCKED_BY_CLIENT|ERR_NAME_NOT_RESOLVED|net::ERR_FAILED/.test(text)) return;
    errors.push(`console error: ${text}`);
  });
  const response = await page.goto(url, { waitUntil: 'domcontentloaded' });
  const ok = Boolean(response) && response.status() === 200;
  // Links and ids as the parsed document has them, as the crawl and idsOf() read them.
  const hrefs = ok ? await page.$$eval('a[href]', (as) => as.map((a) => a.href)) : [];
  const key = url.split('#')[0];
  if (ok && !idCache.has(key)) {
    idCache.set(key, new Set(await page.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id))));
  }
  await page.waitForLoadState('load');
  if (!ok) fail(`${url}: HTTP ${response ? response.status() : 'no response'}`);
  await page.waitForTimeout(150);
  pageErrors.set(url, errors);
  page.hrefs = hrefs;
  return page;
}

async function idsOf(context, url) {
  const key = url.split('#')[0];
  if (!idCache.has(key)) {
    const page = await context.newPage();
    await page.goto(key, { waitUntil: 'domcontentloaded' });
    idCache.set(key, new Set(await page.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id))));
    await page.close();
  }
  return idCache.get(key);
}

async function checkLinks(context, page, url) {
  const links = await page.evaluate(() =>
    [...document.querySelectorAll('a[href], link[rel="stylesheet"][href], script[src], img[src]')].map((e) => ({
      tag: e.tagName.toLowerCase(),
      href: e.getAttribute('href') ?? e.getAttribute('src'),
      abs: e.href || e.src,
      text: (e.textContent || e.getAttribute('alt') || '').trim().slice(0, 60),
      broken: e.tagName === 'IMG' ? !(e.complete && e.naturalWidth > 0) : false,
    })),
  );
  let checked = 0;
  for (const link of links) {
    if (!link.abs || !link.abs.startsWith(base.origin)) continue;
    const target = new URL(link.abs);
    if (link.broken) fail(`${url}: image ${link.href} did not load`);
    const code = await status(target.href);
    checked++;
    if (code !== 200) {
      fail(`${url}: link "${link.text}" -> ${link.href} is HTTP ${code}`);
      continue;
    }
    const hash = decodeURIComponent(target.hash.slice(1));
    if (hash && link.tag === 'a' && /\/$|\.html$/.test(target.pathname)) {
      anchors.push({ url, link, target: target.href, hash });
    }
  }
  return checked;
}

// Links to an element of a page: that page's ids (read on its visit, or by idsOf()) have it.
const anchors = [];
async function checkAnchors(context) {
  for (const { url, link, target, hash } of anchors) {
    const ids = await idsOf(context, target);
    if (!ids.has(hash)) fail(`${url}: link "${link.text}" -> ${link.href}: no element with id "${hash}"`);
  }
}

async function shot(page, name, options = {}) {
  if (!args.out) return;
  const path = join(args.out, `${name}.png`);
  await page.screenshot({ path, ...options });
  report.screenshots.push(path);
}

// Code blocks whose copy buttons overlap each other or the block's first line of code.
async function copyButtonProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const visible = (e) => {
      const r = e.getBoundingClientRect();
      const s = getComputedStyle(e);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
    };
    const blocks = document.querySelectorAll('.md-typeset pre, .jupyter-wrapper .jp-InputArea-editor');
    blocks.forEach((block, index) => {
      block.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
      const container = block.closest('.highlight, .jp-InputArea-editor, .jp-Cell') || block;
      const buttons = [...container.querySelectorAll('button[data-md-type="copy"], button.md-clipboard, clipboard-copy')].filter(visible);
      if (buttons.length > 1) problems.push(`code block ${index}: ${buttons.length} copy buttons`);
    });
    return problems;
  });
}

// Code blocks that hide part of their code: text beyond the block's visible box (cut off, or
// only reachable by scrolling), or under the block's copy button. Measured per word, so
// whitespace that hangs past a wrapped line does not count.
async function codeBlockProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const visible = (e) => {
      const r = e.getBoundingClientRect();
      const s = getComputedStyle(e);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
    };
    const overlaps = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const blocks = [...document.querySelectorAll('article pre:not(.mermaid)')].filter(visible);
    blocks.forEach((pre, index) => {
      const container = pre.closest('.highlight, .jp-InputArea-editor, .jp-OutputArea-output, .doc-signature') || pre;
      container.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
      // The box the code is seen through: the nearest element (from the pre out) that clips.
      let box = container.getBoundingClientRect();
      for (let el = pre.querySelector('code') || pre; el && el !== container.parentElement; el = el.parentElement) {
        if (getComputedStyle(el).overflowX !== 'visible') { box = el.getBoundingClientRect(); break; }
      }
      const buttons = [...container.querySelectorAll('button.md-clipboard, button[data-md-type="copy"], clipboard-copy')]
        .filter(visible).map((b) => b.getBoundingClientRect());
      const label = `code block ${index} ("${pre.textContent.trim().split('\n')[0].slice(0, 50)}")`;
      let cut = null;
      let covered = null;
      const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node && !(cut && covered); node = walker.nextNode()) {
        if (node.parentElement.closest('button, clipboard-copy, .md-clipboard')) continue;
        for (const match of node.textContent.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          for (const rect of range.getClientRects()) {
            if (rect.width === 0) continue;
            if (!cut && (rect.right > box.right + 1 || rect.left < box.left - 1)) cut = match[0];
            if (!covered && buttons.some((b) => overlaps(rect, b))) covered = match[0];
          }
        }
      }
      if (cut) problems.push(`${label} is cut off at "${cut}"`);
      if (covered) problems.push(`${label}: the copy button covers "${covered}"`);
    });
    return problems;
  });
}

async function tocProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    for (const link of document.querySelectorAll('nav.md-nav--secondary a.md-nav__link')) {
      const text = link.textContent.trim();
      const href = link.getAttribute('href') || '';
      if (!text) problems.push(`empty table-of-contents entry -> ${href}`);
      if (href.startsWith('#') && !document.getElementById(decodeURIComponent(href.slice(1)))) {
        problems.push(`table-of-contents entry "${text}" -> ${href} has no target`);
      }
    }
    return problems;
  });
}

async function main() {
  if (args.out) mkdirSync(args.out, { recursive: true });
  let browser;
  try {
    browser = await launch();
  } catch (error) {
    console.log(JSON.stringify({ error: `cannot start Chromium at ${args.chromium}: ${error.message}` }));
    process.exit(2);
  }
  const { context, profile } = browser;
  try {
    let codeBlocksChecked = 0;

    // Every page reachable from the home page (a crawl of the internal links, each page
    // loaded once): loads, no JavaScript errors, no broken internal link, anchor or image,
    // no empty or dangling table-of-contents entry, no doubled copy buttons.
    const pages = [base.href];
    const seen = new Set(pages);
    for (let i = 0; i < pages.length; i++) {
      const url = pages[i];
      const page = await visit(context, url);
      for (const found of sitePagesIn(page.hrefs)) {
        if (!seen.has(found)) {
          seen.add(found);
          pages.push(found);
        }
      }
      const title = await page.title();
      const linksChecked = await checkLinks(context, page, url);
      const toc = await tocProblems(page);
      toc.forEach((p) => fail(`${url}: ${p}`));
      const copy = await copyButtonProblems(page);
      copy.forEach((p) => fail(`${url}: ${p}`));
      const code = await codeBlockProblems(page);
      code.forEach((p) => fail(`${url}: ${p}`));
      // Front matter that failed to parse shows up as a heading ("description: ...").
      const frontMatter = await page.evaluate(() => [...document.querySelectorAll('article h1, article h2, nav.md-nav--secondary a')]
        .map((e) => e.textContent.trim()).find((t) => /^(description|title|hide):\s/.test(t)));
      if (frontMatter) fail(`${url}: shows its front matter as text ("${frontMatter.slice(0, 40)}")`);
      // Characters drawn only by an emoji font: without one they are empty boxes.
      const emoji = await page.evaluate(() => [...new Set(document.body.innerText.match(/\p{Emoji_Presentation}/gu) || [])]);
      if (emoji.length) fail(`${url}: shows emoji ${emoji.join(' ')} (needs an emoji font; use an icon)`);
      codeBlocksChecked += await page.locator('article pre').count();
      report.pages[url] = { title, linksChecked };
      await page.close();
    }
    report.pageCount = pages.length;
    report.codeBlocksChecked = codeBlocksChecked;
    await checkAnchors(context);

    // Home page.
    {
      const page = await visit(context, base.href);
      const h1 = (await page.evaluate(() => {
        const heading = document.querySelector('article h1')?.cloneNode(true);
        heading?.querySelectorAll('.headerlink').forEach((a) => a.remove());
        return heading?.textContent;
      }))?.trim();
      if (h1 !== 'Redis OpenAI Agents') fail(`home page: h1 is "${h1}"`);
      const codeBlocks = await page.locator('article div.highlight pre').count();
      const copyButtons = await page.locator('article div.highlight pre button[data-md-type="copy"]').count();
      if (codeBlocks < 2) fail(`home page: ${codeBlocks} code blocks`);
      if (copyButtons < codeBlocks) fail(`home page: ${copyButtons} copy buttons for ${codeBlocks} code blocks`);
      if ((await page.locator('.md-tabs__item').count()) < 4) fail('home page: navigation tabs missing');
      if ((await page.locator('form[data-md-component="palette"] input').count()) < 2) fail('home page: no light/dark toggle');
      if ((await page.locator('a.md-content__button[href*="/edit/main/docs/index.md"]').count()) !== 1) {
        fail('home page: no edit-on-repository button');
      }
      // Output blocks (titled "Output") show whole output: no lone ellipsis for a first line.
      const outputs = await page.$$eval('article .highlight', (blocks) => blocks
        .filter((b) => /output/i.test(b.querySelector('.filename')?.textContent || ''))
        .map((b) => (b.querySelector('code') || b).innerText.trim().split('\n')));
      for (const lines of outputs) {
        if (/^(…|\.\.\.)$/.test(lines[0].trim())) fail(`home page: an output block starts with a lone "${lines[0].trim()}"`);
      }
      if (outputs.length === 0) fail('home page: no output block');
      report.home = { h1, codeBlocks, copyButtons, outputFirstLines: outputs.map((l) => l[0]) };
      await shot(page, 'home-light');
      await page.close();
      const dark = await visit(context, base.href, { dark: true });
      const scheme = await dark.getAttribute('body', 'data-md-color-scheme');
      if (scheme !== 'slate') fail(`home page in a dark-preferring browser: colour scheme "${scheme}"`);
      await shot(dark, 'home-dark');
      await dark.close();
    }

    // Notebook pages: outputs visible, download button, no cell-tag badges.
    report.notebooks = {};
    for (const path of args.expectNotebook) {
      const url = new URL(path, base).href;
      for (const dark of [false, true]) {
        const page = await visit(context, url, { dark });
        if (!dark) {
          const cells = await page.locator('.jupyter-wrapper .jp-CodeCell').count();
          // Shown with text: what Playwright's isVisible() means (a box, not visibility:
          // hidden) and a non-blank innerText, measured in one evaluation.
          const { outputCount, visibleText } = await page.$$eval('.jupyter-wrapper .jp-OutputArea-output', (outputs) => ({
            outputCount: outputs.length,
            visibleText: outputs.filter((e) => {
              const r = e.getBoundingClientRect();
              return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden' && e.innerText.trim() !== '';
            }).length,
          }));
          const download = await page.locator('a.md-content__button[download][href$=".ipynb"]').count();
          const badges = await page.locator('.jupyter-wrapper .celltoolbar:visible, .jupyter-wrapper .cell-tag:visible').count();
          report.notebooks[path] = { title: await page.title(), cells, outputs: outputCount, visibleOutputs: visibleText, download };
          if (cells === 0) fail(`${path}: no code cells rendered`);
          if (visibleText === 0) fail(`${path}: no visible cell output`);
          if (download !== 1) fail(`${path}: no download button`);
          if (badges) fail(`${path}: ${badges} cell-tag badges visible`);
        }
        const name = path.replace(/\/$/, '').split('/').pop();
        await shot(page, `notebook-${name}-${dark ? 'dark' : 'light'}`);
        if (!dark) await shot(page, `notebook-${name}-full`, { fullPage: true });
        await page.close();
      }
    }

    // API reference: one page per class, together an entry per public name; signatures name
    // their options (no `**options`), and attribute values (implementation) stay out.
    {
      const apiPages = ['api/', 'api/agent-session/', 'api/json-session/', 'api/session-info/', 'api/message-history/', 'api/transfer/', 'api/errors/', 'api/helpers/'];
      const ids = new Set();
      const heights = {};
      for (const path of apiPages) {
        const page = await visit(context, new URL(path, base).href);
        (await page.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id))).forEach((id) => ids.add(id));
        heights[path] = await page.evaluate(() => document.documentElement.scrollHeight);
        const text = await page.evaluate(() => document.querySelector('article').innerText);
        if (text.includes('**options')) fail(`${path}: a signature hides its options in **options`);
        if (/validate_(prefix|id|ttl)\(/.test(text)) fail(`${path}: shows implementation details (attribute values)`);
        if (path === 'api/agent-session/') {
          for (const method of ['create', 'acreate', 'load', 'aload', 'list_sessions', 'alist_sessions', 'list_conversations', 'alist_conversations']) {
            const entry = page.locator(`[id="redis_openai_agents.AgentSession.${method}"]`).locator('xpath=..');
            const shown = (await entry.count()) ? await entry.innerText() : '';
            for (const option of ['redis_client', 'prefix']) {
              if (!shown.includes(option)) fail(`${path}: ${method} does not show its ${option} parameter`);
            }
            if (!/Parameters:/.test(shown)) fail(`${path}: ${method} has no Parameters section`);
          }
          await page.locator('[id="redis_openai_agents.AgentSession.list_sessions"]').scrollIntoViewIfNeeded();
          await page.waitForTimeout(800); // the header's title animation
          await shot(page, 'api-list-sessions');
        }
        if (path === 'api/') await shot(page, 'api-light');
        await page.close();
      }
      const missing = args.expectApi
        .map((name) => (name.startsWith('redis_openai_agents.') ? name : `redis_openai_agents.${name}`))
        .filter((id) => !ids.has(id));
      if (missing.length) fail(`API reference: no entry for ${missing.join(', ')}`);
      report.api = { expected: args.expectApi.length, missing, heights };
      const dark = await visit(context, new URL('api/agent-session/', base).href, { dark: true });
      await shot(dark, 'api-dark');
      await dark.close();
    }

    // Concepts page: the Mermaid diagram renders.
    {
      const url = new URL('concepts/', base).href;
      for (const dark of [false, true]) {
        const page = await visit(context, url, { dark });
        // Material draws the diagram into a closed shadow root: measure the host instead.
        const diagram = page.locator('div.mermaid').first();
        let height = 0;
        for (let i = 0; i < 60 && height < 100; i++) {
          await page.waitForTimeout(250);
          height = (await diagram.count()) ? ((await diagram.boundingBox())?.height ?? 0) : 0;
        }
        if (!dark) report.mermaid = { height };
        if (height < 100) fail(`concepts page (${dark ? 'dark' : 'light'}): the Mermaid diagram did not render`);
        if (await diagram.count()) await diagram.scrollIntoViewIfNeeded();
        await shot(page, `concepts-${dark ? 'dark' : 'light'}`);
        await page.close();
      }
    }

    // Search: Material's client-side search finds the API entry of list_sessions.
    {
      const page = await visit(context, base.href);
      await page.click('input.md-search__input');
      await page.keyboard.type('list_sessions', { delay: 20 });
      let hits = [];
      try {
        await page.waitForSelector('.md-search-result__item', { timeout: 20000 });
        hits = await page.$$eval('.md-search-result__item a', (as) => as.map((a) => a.getAttribute('href')));
      } catch {
        /* reported below */
      }
      const apiHit = hits.find((h) => {
        const url = new URL(h, base);
        return url.pathname.endsWith('/api/agent-session/') && url.hash === '#redis_openai_agents.AgentSession.list_sessions';
      });
      report.search = { query: 'list_sessions', hits: hits.slice(0, 10), apiHit: apiHit ?? null };
      if (!apiHit) fail(`search for list_sessions: no hit on the API entry (hits: ${hits.slice(0, 5).join(', ') || 'none'})`);
      await shot(page, 'search-list_sessions');
      await page.close();
    }

    // Search over the notebooks: results quote their text and code, not the cell prompts
    // ("In [10]:") or the copy button's "Copied!" notice.
    {
      const page = await visit(context, base.href);
      await page.click('input.md-search__input');
      await page.keyboard.type('store_agent_result', { delay: 20 });
      let results = [];
      try {
        await page.waitForSelector('.md-search-result__item', { timeout: 20000 });
        await page.waitForTimeout(300);
        results = await page.$$eval('.md-search-result__item a', (as) => as.map((a) => ({
          href: a.getAttribute('href'), text: a.innerText,
        })));
      } catch {
        /* reported below */
      }
      const notebookHits = results.filter((r) => new URL(r.href, base).pathname.includes('/notebooks/'));
      if (!notebookHits.length) fail('search for store_agent_result: no hit on a notebook page');
      for (const hit of results) {
        const noise = hit.text.match(/In \[\d*\]:|Out\[\d*\]:|Copied!/);
        if (noise) fail(`search result ${hit.href} shows "${noise[0]}"`);
      }
      report.notebookSearch = { query: 'store_agent_result', hits: results.length, notebookHits: notebookHits.length };
      await shot(page, 'search-store_agent_result');
      await page.close();
    }

    // Scripts and styles the pages wanted from elsewhere (a CDN): offline readers lack them.
    for (const blocked of report.externalRequestsBlocked) {
      if (/\.(m?js|css)$/.test(new URL(blocked).pathname)) fail(`the site loads ${blocked} from another server`);
    }

    for (const [url, errors] of pageErrors) errors.forEach((e) => fail(`${url}: ${e}`));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(report, null, 2));
  process.exit(failures.length ? 1 : 0);
}

main().catch((error) => {
  console.log(JSON.stringify({ error: error.stack || String(error), failures }));
  process.exit(1);
});
