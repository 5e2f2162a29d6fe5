// What the browser interop scripts share: Debian's headless Chromium, started the same way, and a page that records
// its own errors.
import { chromium } from 'playwright-core';

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
