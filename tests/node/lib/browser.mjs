// What the browser interop scripts share: Debian's headless Chromium, started the same way, and a page that records
// its own errors.
import { chromium } from 'playwright-core';
import { Mismatch } from './interop.mjs';

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

// A new page whose waits time out after timeoutMs and whose uncaught errors land in pageErrors.
export async function newPage(browser, timeoutMs, pageErrors) {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  return page;
}

// Runs main within overallTimeoutMs, then always closes the browser (a hung close is given 5 s, never more) and exits:
// 0 on success, 1 with the reason and whatever diagnostics() returns (lines about the page) on failure or timeout.
export function runBounded(name, main, { overallTimeoutMs, browser, diagnostics }) {
  let finished = false;
  const overall = setTimeout(() => finish(new Mismatch(`the scenario did not finish within ${overallTimeoutMs} ms`)), overallTimeoutMs);

  async function finish(error) {
    if (finished) return;
    finished = true;
    clearTimeout(overall);
    await Promise.race([browser()?.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (error) {
      console.error(`${name}: FAIL: ${error instanceof Mismatch ? error.message : error?.stack ?? String(error)}`);
      for (const line of diagnostics()) console.error(line);
      process.exit(1);
    }
    process.exit(0);
  }

  main().then(() => finish(), (error) => finish(error ?? new Error('failed')));
}
