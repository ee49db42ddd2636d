// Sums the vitest JSON reports of every package into one line: "N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0,
  failed = 0,
  skipped = 0,
  suitesFailed = 0;
const missing = [];
const exitedNonZero = new Set((process.env.FAILED_PACKAGES ?? '').split(/\s+/).filter(Boolean));
const dirs = [
  ...['apps', 'packages', 'examples'].flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`)),
  ...['infra'].filter((d) => existsSync(join(root, d, 'package.json'))),
];
{
  for (const rel of dirs) {
    const [group, name] = rel.includes('/') ? rel.split('/') : ['.', rel];
    const dir = join(root, rel);
    const pkg = join(dir, 'package.json');
    if (!existsSync(pkg) || !JSON.parse(readFileSync(pkg, 'utf8')).scripts?.test) continue;
    const file = join(dir, 'reports', 'vitest.json');
    if (!existsSync(file)) {
      missing.push(rel);
      continue;
    }
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    // A file that failed to load counts as a failure even though it ran no test.
    const broken = (r.testResults ?? []).filter((t) => t.status === 'failed' && t.assertionResults.length === 0);
    suitesFailed += broken.length;
    // A test command that exited non-zero with no failed test (unhandled errors, a crash) counts as a failure.
    const pkgName = JSON.parse(readFileSync(pkg, 'utf8')).name;
    const unhandled = exitedNonZero.has(pkgName) && r.numFailedTests === 0 && broken.length === 0 ? 1 : 0;
    suitesFailed += unhandled;
    console.log(
      `  ${rel}: ${r.numPassedTests} passed, ${r.numFailedTests} failed${broken.length ? `, ${broken.length} test files failed to run` : ''}${unhandled ? ', and its test command exited non-zero (see the log)' : ''}`,
    );
  }
}
for (const m of missing) console.log(`  ${m}: no report (its tests did not run)`);
// Lint and type-check tasks that failed (see the log above for their errors): one failure each.
const failedChecks = (process.env.FAILED_CHECKS ?? '').split(/\s+/).filter(Boolean);
for (const c of failedChecks) console.log(`  ${c}: FAILED (see its errors above)`);
failed += suitesFailed + missing.length + failedChecks.length;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
