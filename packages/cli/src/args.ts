/** A usage error: the command line is wrong. Printed as it is, exit 2, nothing sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Options that never take a value (`--wait --json` are two flags, not `wait = "--json"`). */
const SWITCHES = new Set(['wait', 'json', 'help']);

export interface Args {
  positionals: string[];
  /** `--name value`, `--name=value`; a flag with no value is `true`. Names as written, without the dashes. */
  options: Map<string, string | true>;
}

/**
 * `positional --flag value --flag=value --switch -h`. A value may start with one dash (`-5`); `--` ends the options.
 * Giving an option twice is an error.
 */
export function parseArgs(argv: readonly string[]): Args {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  const set = (name: string, value: string | true) => {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) throw new UsageError(`"--${name}" is not an option name`);
    if (options.has(name)) throw new UsageError(`--${name} is given twice`);
    options.set(name, value);
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') set('help', true);
    else if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      if (eq > 2) set(token.slice(2, eq), token.slice(eq + 1));
      else {
        const name = token.slice(2);
        const next = argv[i + 1];
        if (!SWITCHES.has(name) && next !== undefined && !next.startsWith('--')) {
          set(name, next);
          i++;
        } else set(name, true);
      }
    } else positionals.push(token);
  }
  return { positionals, options };
}

/** Takes an option out of `args` (so what is left can be checked for unknown ones). */
export function take(args: Args, name: string): string | true | undefined {
  const value = args.options.get(name);
  args.options.delete(name);
  return value;
}

/** An option that needs a value. */
export function takeValue(args: Args, name: string): string | undefined {
  const value = take(args, name);
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value;
}

export const takeSwitch = (args: Args, name: string): boolean => {
  const value = take(args, name);
  if (value !== undefined && value !== true) throw new UsageError(`--${name} takes no value`);
  return value === true;
};

/** Refuses options nothing took. */
export function assertNoOptionsLeft(args: Args, command: string): void {
  const left = [...args.options.keys()];
  if (left.length > 0)
    throw new UsageError(`unknown option ${left.map((o) => `--${o}`).join(', ')} for "${command}" (see gptmarket ${command} --help)`);
}
