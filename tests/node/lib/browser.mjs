// What the browser scripts share: Debian's headless Chromium, started and closed the same way, and pages that record
// their own errors and console for a failure's report.
import { chromium } from 'playwright-core';
import { check } from './interop.mjs';

const ChromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// No sandbox (CI runs as root in a container); nothing that reaches for the network: the machine has none.
export function launchChromium(timeoutMs) {
  return chromium.launch({
    executablePath: ChromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: timeoutMs,
  });
}

// Closes the browser, if there is one; a hung close is given 5 s, never more.
export async function closeBrowser(browser) {
  await Promise.race([browser?.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000))]);
}

// The uncaught errors and console lines of the pages it watches, each prefixed with its page's label if it has one.
export function pageLog() {
  const log = {
    errors: [],
    console: [],
    watch(page, label) {
      const prefix = label === undefined ? '' : `${label}: `;
      page.on('pageerror', (error) => log.errors.push(`${prefix}${error}`));
      page.on('console', (message) => log.console.push(`${label === undefined ? '' : `${label} `}${message.type()}: ${message.text()}`));
    },
    // Lines for a failure's report: the errors, and the last 40 console lines.
    diagnostics() {
      return [
        ...(log.errors.length ? [`page errors: ${log.errors.join('; ')}`] : []),
        ...(log.console.length ? [`page console:\n  ${log.console.slice(-40).join('\n  ')}`] : []),
      ];
    },
  };
  return log;
}

// A new page of `target` (a browser or a context) whose waits time out after timeoutMs, watched by `log`, loaded from
// url (beforeLoad(page) first, for listeners that must see the load); the page must answer 200.
export async function openPage(target, url, { timeoutMs, log, label, beforeLoad = () => {} }) {
  const page = await target.newPage();
  page.setDefaultTimeout(timeoutMs);
  log.watch(page, label);
  beforeLoad(page);
  const response = await page.goto(url, { waitUntil: 'load' });
  check(response?.status() === 200, `${label === undefined ? '' : `${label}: `}GET ${new URL(url).pathname} answered ${response?.status()}`);
  return page;
}
