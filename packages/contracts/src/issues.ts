import type { z } from 'zod';

/** One validation problem with a dotted path, as the gateway reports it in `details`. */
export interface ContractIssue {
  path: string;
  message: string;
}

/** Flattens zod issues into `{path, message}` pairs; the path names the failing field (`input.video_duration`). */
export function formatIssues(error: z.ZodError, prefix: readonly (string | number)[] = []): ContractIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.') || '(root)',
    message: issue.message,
  }));
}
