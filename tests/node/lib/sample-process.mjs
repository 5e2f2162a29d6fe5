// The sample server as a child process (so a test can stop it and start a new one on the same port: a new epoch), and
// a TCP proxy in front of it that can cut every connection through it and refuse new ones (a dropped network).
import { spawn } from 'node:child_process';
import net from 'node:net';

// Starts `dotnet <sampleDll> --urls http://127.0.0.1:<port>` (port 0: the OS picks) and resolves once Kestrel says
// where it listens. stop() sends SIGTERM (a graceful shutdown: streams are told ShuttingDown) and SIGKILLs by PID what
// has not exited 15 s later.
export function startSample(sampleDll, { port = 0, timeoutMs = 60_000 } = {}) {
  const child = spawn('dotnet', [sampleDll, '--urls', `http://127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOTNET_NOLOGO: '1', ASPNETCORE_ENVIRONMENT: 'Production', Logging__LogLevel__Default: 'Warning', 'Logging__LogLevel__Microsoft.Hosting.Lifetime': 'Information' },
  });
  const output = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the sample did not start within ${timeoutMs} ms:\n${output.join('')}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output.push(String(chunk));
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:(\d+))/.exec(output.join(''));
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.on('data', (more) => output.push(String(more)));
      resolve({
        baseUrl: match[1],
        port: Number(match[2]),
        pid: child.pid,
        output,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => output.push(String(chunk)));
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the sample exited (${code ?? signal}) before listening:\n${output.join('')}`));
    });
  });
}

// What a scenario starts, kept so that stopAll() stops all of it whatever happened: the proxies, then the processes.
export function started() {
  const servers = [];
  const proxies = [];
  return {
    async sample(sampleDll, options) {
      const server = await startSample(sampleDll, options);
      servers.push(server);
      return server;
    },
    async proxy(targetPort) {
      const proxy = await startProxy(targetPort);
      proxies.push(proxy);
      return proxy;
    },
    async stopAll() {
      await Promise.allSettled(proxies.map((proxy) => proxy.close()));
      await Promise.allSettled(servers.map((server) => server.stop()));
    },
    // Lines for a failure's report: the end of each process's output.
    outputs() {
      return servers.map((server) => `server ${server.pid} output:\n${server.output.join('').slice(-4000)}`);
    },
  };
}

// A TCP proxy on 127.0.0.1 to `targetPort`. cut() destroys every connection through it and refuses new ones until
// restore(); connections counts the connections it accepted (a reconnect shows as one more).
export async function startProxy(targetPort) {
  const pairs = new Set();
  let refusing = false;
  const proxy = {
    connections: 0,
    url: '',
    cut() {
      refusing = true;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      refusing = false;
    },
    close() {
      proxy.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    proxy.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = [client, upstream];
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  return proxy;
}
