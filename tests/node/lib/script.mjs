// What every script here shares, whatever it drives: its command line, waits that wake on events and give up after a
// timeout (never a fixed sleep), and a bounded run that reports one JSON summary line or why it failed.

// A failed expectation: reported by its message alone (anything else thrown is a bug here, reported with its stack).
export class Mismatch extends Error {}

// Prints the usage line and exits 2 (a wrong command line is not a failed scenario).
export function exitWithUsage(line) {
  console.error(`usage: ${line}`);
  process.exit(2);
}

// The base URL given as the first argument, without a trailing slash; without one, the usage line and exit 2.
export function baseUrlArgument(script) {
  const baseUrl = (process.argv[2] ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) exitWithUsage(`node ${script} <baseUrl>   (e.g. http://127.0.0.1:5080)`);
  return baseUrl;
}

// Waits re-checked whenever wake() is called (by whatever records the events they wait for).
export class Waiters {
  #pending = new Set();

  wake() {
    for (const settle of this.#pending) settle();
  }

  // Resolves with predicate()'s first truthy value, checked now and at every wake(); rejects with what predicate throws,
  // or with timeoutError() once timeoutMs have passed.
  until(predicate, timeoutMs, timeoutError) {
    return new Promise((resolve, reject) => {
      const settle = () => {
        let ok;
        try { ok = predicate(); } catch (error) { done(); reject(error); return; }
        if (ok) { done(); resolve(ok); }
      };
      const timer = setTimeout(() => { done(); reject(timeoutError()); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.#pending.delete(settle); };
      this.#pending.add(settle);
      settle();
    });
  }
}

// Rejects with a Mismatch naming `what` if promise has not settled within timeoutMs.
export function within(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Mismatch(what)), timeoutMs); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs main within overallTimeoutMs. When main resolves with a summary, prints it as one JSON line. Then always runs
// cleanup() (stopping what the scenario started) and exits: 0 on success, 1 with `<name>: FAIL: <why>` and whatever
// diagnostics() returns (lines for a failure's report) on failure or timeout. A Mismatch is reported by its message,
// anything else (a bug in the script) with its stack.
export function runBounded(name, main, { overallTimeoutMs, cleanup = async () => {}, diagnostics = () => [] }) {
  let finished = false;
  const overall = setTimeout(() => finish(new Mismatch(`the scenario did not finish within ${overallTimeoutMs} ms`)), overallTimeoutMs);

  async function finish(error) {
    if (finished) return;
    finished = true;
    clearTimeout(overall);
    await cleanup();
    if (error) {
      console.error(`${name}: FAIL: ${error instanceof Mismatch ? error.message : error?.stack ?? String(error)}`);
      for (const line of diagnostics()) console.error(line);
      process.exit(1);
    }
    process.exit(0);
  }

  main().then(
    (summary) => {
      if (summary !== undefined) console.log(JSON.stringify(summary));
      return finish();
    },
    (error) => finish(error ?? new Error('failed')),
  );
}
