// Imported first (before any schema is built or used): the page's CSP has no 'unsafe-eval', so zod validates
// without compiling code, and never even probes `new Function` (the browser reports the probe as a CSP violation).
import { z } from 'zod';

z.config({ jitless: true });
