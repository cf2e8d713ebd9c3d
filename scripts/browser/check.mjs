// Headless-Chromium check of the built documentation site.
//
//   node scripts/browser/check.mjs --base http://127.0.0.1:8000/ [--out DIR] [--expect-api NAME ...]
//       [--expect-notebook PATH ...] [--chromium /usr/bin/chromium]
//
// The site must already be served at --base (tests/test_docs_browser.py serves site/ with
// `python -m http.server` on loopback). Prints one JSON report on stdout and exits 1 when a
// check failed, 2 when the browser could not be started. Requests that leave the loopback
// server are not sent: Mermaid (which Material loads from unpkg.com) is answered from the
// `mermaid` npm package pinned beside this script, everything else is aborted and listed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

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
const mermaidJs = join(here, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');

async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'docs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin === base.origin || url.protocol === 'data:' || url.protocol === 'blob:') {
      return route.continue();
    }
    if (url.hostname === 'unpkg.com' && url.pathname.startsWith('/mermaid@11/') && existsSync(mermaidJs)) {
      return route.fulfill({ status: 200, contentType: 'application/javascript', body: readFileSync(mermaidJs) });
    }
    if (!report.externalRequestsBlocked.includes(url.origin + url.pathname)) {
      report.externalRequestsBlocked.push(url.origin + url.pathname);
    }
    return route.abort('blockedbyclient');
  });
  return { context, profile };
}

// Every page of the site: a crawl of the internal links, starting at the home page.
// (mkdocs writes sitemap.xml entries only when site_url is set.)
async function sitePages(context) {
  const seen = new Set([base.href]);
  const queue = [base.href];
  while (queue.length) {
    const url = queue.shift();
    const page = await context.newPage();
    const response = await page.goto(url, { waitUntil: 'domcontentloaded' });
    if (response && response.status() === 200) {
      const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
      for (const href of hrefs) {
        const target = new URL(href);
        target.hash = '';
        target.search = '';
        const isPage = target.pathname.endsWith('/') || target.pathname.endsWith('.html');
        if (target.origin === base.origin && target.pathname.startsWith(base.pathname) && isPage && !seen.has(target.href)) {
          seen.add(target.href);
          queue.push(target.href);
        }
      }
    }
    await page.close();
  }
  return [...seen];
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
    if (/ERR_BLOCKED_BY_CLIENT|net::ERR_FAILED/.test(text)) return;
    errors.push(`console error: ${text}`);
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || response.status() !== 200) fail(`${url}: HTTP ${response ? response.status() : 'no response'}`);
  await page.waitForTimeout(150);
  pageErrors.set(url, errors);
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
      const ids = await idsOf(context, target.href);
      if (!ids.has(hash)) fail(`${url}: link "${link.text}" -> ${link.href}: no element with id "${hash}"`);
    }
  }
  return checked;
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
    const pages = await sitePages(context);
    report.pageCount = pages.length;

    // Every page: loads, no JavaScript errors, no broken internal link, anchor or image,
    // no empty or dangling table-of-contents entry, no doubled copy buttons.
    for (const url of pages) {
      const page = await visit(context, url);
      const title = await page.title();
      const linksChecked = await checkLinks(context, page, url);
      const toc = await tocProblems(page);
      toc.forEach((p) => fail(`${url}: ${p}`));
      const copy = await copyButtonProblems(page);
      copy.forEach((p) => fail(`${url}: ${p}`));
      report.pages[url] = { title, linksChecked };
      await page.close();
    }

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
      report.home = { h1, codeBlocks, copyButtons };
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
        const cells = await page.locator('.jupyter-wrapper .jp-CodeCell').count();
        const outputs = page.locator('.jupyter-wrapper .jp-OutputArea-output');
        const outputCount = await outputs.count();
        let visibleText = 0;
        for (let i = 0; i < outputCount; i++) {
          const output = outputs.nth(i);
          if ((await output.isVisible()) && (await output.innerText()).trim()) visibleText++;
        }
        const download = await page.locator('a.md-content__button[download][href$=".ipynb"]').count();
        const badges = await page.locator('.jupyter-wrapper .celltoolbar:visible, .jupyter-wrapper .cell-tag:visible').count();
        if (!dark) {
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

    // API page: one entry per public name.
    {
      const page = await visit(context, new URL('api/', base).href);
      const missing = [];
      for (const name of args.expectApi) {
        const id = name.startsWith('redis_openai_agents.') ? name : `redis_openai_agents.${name}`;
        if ((await page.locator(`[id="${id}"]`).count()) === 0) missing.push(id);
      }
      if (missing.length) fail(`API page: no entry for ${missing.join(', ')}`);
      report.api = { expected: args.expectApi.length, missing };
      await shot(page, 'api-light');
      await page.locator('[id="redis_openai_agents.AgentSession.list_sessions"]').scrollIntoViewIfNeeded();
      await page.waitForTimeout(800); // the header's title animation
      await shot(page, 'api-list-sessions');
      await page.close();
      const dark = await visit(context, new URL('api/', base).href, { dark: true });
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
        return url.pathname.endsWith('/api/') && url.hash === '#redis_openai_agents.AgentSession.list_sessions';
      });
      report.search = { query: 'list_sessions', hits: hits.slice(0, 10), apiHit: apiHit ?? null };
      if (!apiHit) fail(`search for list_sessions: no hit on the API entry (hits: ${hits.slice(0, 5).join(', ') || 'none'})`);
      await shot(page, 'search-list_sessions');
      await page.close();
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
