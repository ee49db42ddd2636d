import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';
import { LocalStorage, type Storage } from '@gptmarket/storage';

/** `/media/<key>`: the files of local storage (other storage serves its own URLs). */
export const mediaRoutes: FastifyPluginAsync<{ storage: Storage }> = async (app, { storage }) => {
  if (!(storage instanceof LocalStorage)) return;
  await storage.check();
  await app.register(fastifyStatic, {
    root: storage.root,
    prefix: '/media/',
    dotfiles: 'deny',
    index: false,
    list: false,
    cacheControl: true,
    maxAge: '1h',
    immutable: true,
    allowedPath: (path) => /^\/?[a-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*\/[A-Za-z0-9_-]+\.[a-z0-9]{1,5}$/.test(path),
    schemaHide: true,
  });
};
