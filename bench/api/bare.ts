/**
 * The yardstick of `bench/api`: a bare Fastify route serving the JSON the gateway serves (read from the files
 * named by BARE_ONE and BARE_LIST), serialized by Fastify on every request. No auth, no database, no schema.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const req = createRequire(join(import.meta.dirname, '../../apps/gateway/package.json'));
const { default: Fastify } = (await import(req.resolve('fastify'))) as typeof import('fastify');
const one = JSON.parse(readFileSync(process.env.BARE_ONE!, 'utf8'));
const list = JSON.parse(readFileSync(process.env.BARE_LIST!, 'utf8'));
const app = Fastify({ logger: false });
app.get('/one', async () => one);
app.get('/list', async () => list);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
console.log('bare ready');
