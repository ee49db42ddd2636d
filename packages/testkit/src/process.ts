import { spawn, type ChildProcess } from 'node:child_process';

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves when a line matching `pattern` has been printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /**
   * SIGKILL at once, as a crash or `docker kill` would, to the process and everything it started (FFmpeg): the
   * service runs in its own process group. Resolves once the process is gone.
   */
  kill(): Promise<void>;
}

/** Groups of services still running, killed if the test process exits without stopping them. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Spawns a long-running service (a worker or the gateway) and keeps its output for assertions and failures. */
export function spawnService(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): ServiceProcess {
  // Its own process group, so that `kill()` takes its children (FFmpeg) with it.
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid) liveGroups.add(pid);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (process.env.TEST_SERVICE_LOGS) process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (pid) liveGroups.delete(pid);
      resolve(code);
    }),
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    child,
    output: () => out,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            cleanup();
            resolve(m[0]);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: no output matching ${pattern} within ${timeoutMs} ms. Output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`${name} exited (${code}) before printing ${pattern}. Output:\n${out.slice(-4000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.on('exit', onExit);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (gone()) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (gone()) return;
      try {
        process.kill(-pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/**
 * A service that can crash and come back, as a container with `restart: unless-stopped`: `kill()` SIGKILLs the running
 * process (and its children), `restart()` starts a new one and resolves once it printed `ready`. `output()` has every
 * life's output, each introduced by a `--- <name> start N ---` line.
 */
export interface RestartableService {
  readonly name: string;
  current(): ServiceProcess;
  output(): string;
  kill(): Promise<void>;
  restart(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRestartable(
  name: string,
  spawnIt: () => ServiceProcess,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<RestartableService> {
  const lives: ServiceProcess[] = [];
  const start = async (ms: number) => {
    const p = spawnIt();
    lives.push(p);
    await p.waitForOutput(ready, ms);
  };
  await start(timeoutMs);
  return {
    name,
    current: () => lives.at(-1)!,
    output: () => lives.map((p, i) => `--- ${name} start ${i + 1} ---\n${p.output()}`).join('\n'),
    kill: () => lives.at(-1)!.kill(),
    restart: (ms = 60_000) => start(ms),
    async stop() {
      await Promise.all(lives.map((p) => p.stop()));
    },
  };
}
