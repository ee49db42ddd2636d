import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** @type {import('next').NextConfig} */
const config = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The monorepo root: @gptmarket/sdk is a workspace package outside this folder.
  turbopack: { root },
  outputFileTracingRoot: root,
};
export default config;
