import { randomBytes } from 'node:crypto';
import { StorageError } from './types.js';

const EXT_BY_TYPE: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/ogg': 'ogg',
  'audio/mp4': 'm4a',
  'application/json': 'json',
  'text/plain': 'txt',
};
const TYPE_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
};

export const extensionForContentType = (contentType: string): string =>
  EXT_BY_TYPE[contentType.split(';')[0]!.trim().toLowerCase()] ?? 'bin';

export const contentTypeForKey = (key: string): string =>
  TYPE_BY_EXT[key.slice(key.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';

const FOLDER = /^[a-z0-9_-]+(?:\/[a-z0-9_-]+)*$/;
const KEY = /^[a-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*\/[A-Za-z0-9_-]+\.[a-z0-9]{1,5}$/;

/** `{folder}/{YYYY}/{MM}/{DD}/{id}.{ext}` with the UTC date and a random 12-hex id (the Python system's layout). */
export function makeKey(folder: string, ext: string, now = new Date(), id = randomBytes(6).toString('hex')): string {
  if (!FOLDER.test(folder) || folder.length > 128) throw new StorageError(`bad storage folder "${folder}"`, 'bad_key');
  if (!/^[a-z0-9]{1,5}$/.test(ext)) throw new StorageError(`bad file extension "${ext}"`, 'bad_key');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new StorageError(`bad object id "${id}"`, 'bad_key');
  const y = now.getUTCFullYear();
  const m = String(now.getUTCMonth() + 1).padStart(2, '0');
  const d = String(now.getUTCDate()).padStart(2, '0');
  return `${folder}/${y}/${m}/${d}/${id}.${ext}`;
}

/** Rejects keys that could escape the storage root or that we would never have written. */
export function assertSafeKey(key: string): string {
  if (key.length > 512 || !KEY.test(key) || key.split('/').some((p) => p === '.' || p === '..')) {
    throw new StorageError(`bad storage key "${key.slice(0, 80)}"`, 'bad_key');
  }
  return key;
}
